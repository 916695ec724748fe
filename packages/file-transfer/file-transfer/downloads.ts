/**
 * The requestor's side, kept by the main process: each download is a record
 * in Transfers and, while it moves, one worker. At most OWN_ACTIVE run at
 * once (a package may run 64 processes: tuning.ts shares them out), and at
 * most OWN_QUEUE are open; the rest wait their turn. An interrupted download
 * is tried again with a growing pause, and whenever the node starts; a folder
 * becomes one download per file under it (the receiving worker has checked
 * its listing against a folder download's bounds).
 */
import { println, type ProcessAddress, Request, vfs } from "@hyperdeno/process_lib";
import { startDownload } from "../api/file_transfer_worker_api.ts";
import type { FinishedRequest, ProgressRequest, TransferView } from "../api/types.ts";
import { cleanName } from "../api/names.ts";
import { downloadsNamed, humanBytes, humanDuration } from "../api/format.ts";
import { OWN_ACTIVE, OWN_QUEUE } from "../api/tuning.ts";
import { isFinal, type Transfers } from "./transfers.ts";

const RETRY_MAX_MS = 4_000;
/** A download whose worker has said nothing for this long is taken for dead and tried again. */
const SILENT_MS = 45_000;
/** A cancelled download's worker that has not said it stopped within this long is taken for gone. */
const STOPPING_MS = 30_000;

export class Downloads {
  private workers = new Map<string, string>();
  private retries = new Map<string, ReturnType<typeof setTimeout>>();
  /** Interruptions in a row that moved no byte, and how far each download had got: the retry pause grows with them. */
  private fails = new Map<string, number>();
  private lastBytes = new Map<string, number>();
  /** The last interruption said for each transfer. */
  private said = new Map<string, string | null>();
  /** When each moving attempt last reported: the time between reports is time moving (durations count only that). */
  private lastMoved = new Map<string, number>();
  /** Cancelled downloads whose worker has not yet said it stopped (since when): resumed, they wait for it. */
  private stopping = new Map<string, number>();

  private me: ProcessAddress;
  private transfers: Transfers;
  // Fields, not parameter properties: `new -l javascript` strips types, and those are more than types.
  constructor(me: ProcessAddress, transfers: Transfers) {
    this.me = me;
    this.transfers = transfers;
    setInterval(() => this.checkSilent(), 5_000);
  }

  /** A new download of `name` from `peer` (a node, or a node@process address); the existing one if it runs. */
  request(peer: string, name: string, overwrite: boolean, chunk?: number): TransferView {
    const node = peer.split("@")[0];
    const clean = cleanName(name);
    const same = this.transfers.openDownload(node, clean);
    if (same) {
      // Asked again to replace the file here: the next attempt will.
      if (overwrite && !same.overwrite) this.transfers.update(same.id, { overwrite: true }, true);
      if (same.status === "interrupted") this.resume(same.id);
      return same;
    }
    const open = this.transfers.openDownloads();
    if (open >= OWN_QUEUE) {
      throw new Error(
        `${open} downloads are open here, the most this node keeps: let some finish (or cancel them)`,
      );
    }
    const now = Date.now();
    const t: TransferView = {
      id: crypto.randomUUID().replaceAll("-", "").slice(0, 12),
      direction: "download",
      peer: node,
      name: clean,
      status: "pending",
      bytes: 0,
      size: null,
      sha256: null,
      speed: 0,
      error: null,
      started: now,
      updated: now,
      overwrite,
      attempts: 0,
      ...(chunk ? { chunk } : {}),
    };
    this.transfers.add(t);
    this.pump();
    return t;
  }

  /**
   * Tries again now: interrupted and failed downloads (all of them, or one);
   * one named by `id` also when it was cancelled (from nothing: its partial
   * file went with the cancel). Returns those it resumed.
   */
  resume(id?: string): TransferView[] {
    const resumed: TransferView[] = [];
    for (const t of this.transfers.list()) {
      if (t.direction !== "download" || (id && t.id !== id)) continue;
      const cancelled = id !== undefined && t.status === "cancelled";
      if (t.status !== "interrupted" && t.status !== "failed" && !cancelled) continue;
      clearTimeout(this.retries.get(t.id));
      this.retries.delete(t.id);
      const afresh = cancelled || (t.status === "failed" && !t.resumable);
      this.transfers.update(
        t.id,
        { status: "pending", error: null, ...(afresh ? { bytes: 0, resumable: false } : {}) },
        true,
      );
      resumed.push(t);
    }
    this.pump();
    return resumed;
  }

  cancel(id: string): boolean {
    const t = this.transfers.get(id);
    if (!t || isFinal(t.status)) return false;
    clearTimeout(this.retries.get(id));
    const worker = this.workers.get(id);
    if (worker) Request.to(worker).json("Cancel").send();
    // Its worker removes the partial file and says it stopped; a resume meanwhile waits for that.
    if (this.workers.has(id)) this.stopping.set(id, Date.now());
    this.transfers.update(id, { status: "cancelled", speed: 0 }, true);
    return true;
  }

  /** Starts waiting downloads while there is room. */
  pump() {
    let room = OWN_ACTIVE - this.transfers.counts().download.active;
    if (room <= 0) return;
    for (const t of this.transfers.pending()) {
      if (room <= 0) break;
      const since = this.stopping.get(t.id);
      if (since !== undefined && Date.now() - since < STOPPING_MS) continue;
      this.stopping.delete(t.id);
      room--;
      this.start(t);
    }
  }

  private start(t: TransferView) {
    this.transfers.update(t.id, { status: "active", attempts: t.attempts + 1, error: null }, true);
    this.lastMoved.delete(t.id);
    // Known at once, so that a cancel while the worker starts waits for it (the worker's address comes later).
    this.workers.set(t.id, "");
    const address = t.peer.includes("@") ? t.peer : `${t.peer}@${this.me.process}`;
    startDownload(this.me, this.me, t.name, address, true, {
      transfer: t.id,
      overwrite: t.overwrite,
      sha256: t.sha256,
      version: t.version ?? null,
      chunk: t.chunk,
    }).then(
      (worker) => {
        if (!this.workers.has(t.id)) return; // it has already finished
        this.workers.set(t.id, worker);
        // Cancelled while its worker was starting: the worker hears it now, or it would finish the file.
        if (this.transfers.get(t.id)?.status === "cancelled") Request.to(worker).json("Cancel").send();
      },
      (e) => this.finished({ ...base(t), outcome: "interrupted", error: `could not start a worker: ${e.message}` }),
    );
  }

  progress(p: ProgressRequest) {
    const t = p.transfer ? this.transfers.get(p.transfer) : undefined;
    if (!t || t.status !== "active") return;
    // Persisted when the SHA-256 or the version is first known: a restart must compare them.
    const newVersion = typeof p.version === "string" && p.version !== t.version;
    const first = (t.sha256 === null && p.sha256) || newVersion;
    const now = Date.now();
    const last = this.lastMoved.get(t.id);
    this.lastMoved.set(t.id, now);
    this.transfers.update(t.id, {
      ...(last !== undefined ? { moving_ms: (t.moving_ms ?? 0) + now - last } : {}),
      bytes: p.bytes ?? t.bytes,
      size: p.size ?? t.size,
      // Another version of the file: the SHA-256 known so far was the old one's.
      sha256: p.sha256 ?? (newVersion && t.version ? null : t.sha256),
      ...(typeof p.version === "string" ? { version: p.version.slice(0, 64) } : {}),
      ...(p.offset !== undefined ? { resumed_from: p.offset } : {}),
    }, Boolean(first));
  }

  finished(f: FinishedRequest) {
    const t = this.transfers.get(f.transfer);
    this.workers.delete(f.transfer);
    const last = this.lastMoved.get(f.transfer);
    this.lastMoved.delete(f.transfer);
    // A cancelled attempt's end: whatever the record says now (it may have been resumed) is not this worker's.
    if (this.stopping.delete(f.transfer)) return this.pump();
    if (!t || t.status === "cancelled" || isFinal(t.status)) return this.pump();
    if (f.outcome !== "interrupted") this.forget(t.id);
    // Time moving: the attempts' time between reports and, for an attempt that ended, up to its end (not a
    // stall or a node that was away: an interrupted attempt's silence is not counted).
    const moving_ms = (t.moving_ms ?? 0) + (last !== undefined && f.outcome !== "interrupted" ? Date.now() - last : 0);
    if (t.moving_ms !== moving_ms) this.transfers.update(t.id, { moving_ms });
    const took = moving_ms / 1000;
    // Failed for good: its partial file goes (it would only take room), unless the worker kept it to resume.
    if (f.outcome === "failed" && !f.kept) {
      vfs.removeFile(`/${this.me.packageId()}/partial/${t.id}.part`).catch(() => {});
    }
    if (f.folder) {
      const files = f.folder.filter((e) => !e.is_dir);
      const total = files.reduce((a, e) => a + (Number(e.size) || 0), 0);
      this.transfers.update(t.id, { status: "done", bytes: total, size: total, files: files.length, speed: 0 }, true);
      println(
        `${t.name}/ from ${t.peer}: a folder of ${files.length} file${files.length === 1 ? "" : "s"} (${
          humanBytes(total)
        }); downloading each`,
      );
      for (const e of files) {
        try {
          this.request(t.peer, e.name, t.overwrite);
        } catch (err) {
          println(`${t.peer} listed a file named ${JSON.stringify(e.name)}: skipped (${(err as Error).message})`);
        }
      }
    } else if (f.outcome === "done") {
      this.transfers.update(
        t.id,
        {
          status: "done",
          bytes: f.size ?? f.bytes,
          size: f.size,
          sha256: f.sha256,
          speed: 0,
          error: null,
          stats: f.stats,
        },
        true,
      );
      const rate = (f.size ?? 0) / Math.max(took, 0.001);
      println(
        `${t.name} from ${t.peer}: done, ${humanBytes(f.size ?? 0)} in ${humanDuration(took)} (${
          humanBytes(Math.round(rate))
        }/s), SHA-256 verified`,
      );
    } else if (f.outcome === "interrupted") {
      // An attempt that never reached the sender moved nothing: the partial file still holds what came before.
      const bytes = f.bytes || t.bytes;
      this.transfers.update(
        t.id,
        { status: "interrupted", bytes, size: f.size ?? t.size, error: f.error, speed: 0 },
        true,
      );
      // Said once per reason, not once per retry (a node offline for minutes is retried every few seconds).
      if (this.said.get(t.id) !== f.error) {
        this.said.set(t.id, f.error);
        println(`${t.name} from ${t.peer}: interrupted at ${humanBytes(bytes)} (${f.error}); resuming when it can`);
      }
      const stuck = f.bytes <= (this.lastBytes.get(t.id) ?? -1);
      this.lastBytes.set(t.id, f.bytes);
      const fails = stuck ? (this.fails.get(t.id) ?? 0) + 1 : 0;
      this.fails.set(t.id, fails);
      const delay = Math.min(RETRY_MAX_MS, 250 * 2 ** fails);
      this.retries.set(t.id, setTimeout(() => this.resume(t.id), delay));
    } else {
      const resumable = f.kept === true;
      this.transfers.update(t.id, { status: "failed", error: f.error, speed: 0, resumable }, true);
      const next = resumable
        ? `; the ${humanBytes(f.bytes)} received are kept (transfers resume ${t.id} tries again from there)`
        : "";
      println(`${t.name} from ${t.peer}: failed: ${f.error}${next}`);
    }
    this.pump();
  }

  /** A transfer that ended needs no retry bookkeeping. */
  private forget(id: string) {
    this.fails.delete(id);
    this.lastBytes.delete(id);
    this.said.delete(id);
  }

  /** Resumes downloads the node was doing when it stopped, and says so (a boot that quietly resumes surprises). */
  resumeSaved() {
    const resumed: string[] = [];
    for (const t of this.transfers.list()) {
      if (t.direction === "download" && t.status === "interrupted") {
        this.transfers.update(t.id, { status: "pending" });
        resumed.push(`${t.name} from ${t.peer}`);
      }
    }
    if (resumed.length) println(`resuming ${downloadsNamed(resumed)}`);
    this.pump();
  }

  private checkSilent() {
    const now = Date.now();
    for (const t of this.transfers.list()) {
      if (t.status !== "active" || now - t.updated < SILENT_MS) continue;
      if (t.direction === "upload") this.transfers.update(t.id, { status: "interrupted", speed: 0 });
      else this.finished({ ...base(t), outcome: "interrupted", error: "its worker went silent" });
    }
  }
}

function base(t: TransferView): Omit<FinishedRequest, "outcome" | "error"> {
  return { transfer: t.id, name: t.name, bytes: t.bytes, size: t.size, sha256: t.sha256 };
}
