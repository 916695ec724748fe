/**
 * file-transfer:file-transfer:template.os — the main process. It owns the
 * `files` drive and answers ListFiles; it starts a worker per transfer
 * (startDownload, the exported worker API) and keeps every transfer's state
 * and progress in one table (transfers.ts) that the terminal's status line
 * and the transfers script read. The allow-list says which peers may list,
 * download and push here.
 *
 *   m our@file-transfer:file-transfer:template.os '"ListFiles"'
 *   m our@file-transfer:file-transfer:template.os '{"Download": {"name": "my_file.txt", "target": "fake2.dev", "is_requestor": true}}'
 */
import {
  getState,
  type Message,
  our,
  println,
  type ProcessAddress,
  Request,
  requests,
  Response,
  setState,
  vfs,
} from "@hyperdeno/process_lib";
import {
  type AllowList,
  type DownloadRequest,
  type FinishedRequest,
  type ProgressRequest,
  STATUS_IDS,
  type TransferCounts,
  type TransferView,
} from "../api/types.ts";
import { cleanFolder, cleanName } from "../api/names.ts";
import { folderTooLarge, listFiles } from "../api/listing.ts";
import { change, defaultAllowList, isPermission, permits, refusal } from "./allow.ts";
import { Transfers } from "./transfers.ts";
import { Downloads } from "./downloads.ts";
import { Uploads } from "./uploads.ts";
import { downloadRefusal } from "./download_checks.ts";
import { StatusLine } from "./status.ts";
import { Web } from "./web.ts";

interface Saved {
  allow?: AllowList;
  transfers?: TransferView[];
  counts?: TransferCounts;
}

/** How long a push offer lets the receiver download what was offered. */
const PUSH_GRANT_MS = 10 * 60_000;
const NODE = /^(\*|[a-z0-9][a-z0-9.-]{0,252})$/;

export default async function init(_our: string) {
  const me = our();
  const pkg = me.packageId();
  const drive = await vfs.createDrive(pkg, "files");
  await vfs.createDrive(pkg, "partial");

  const saved = loadState();
  const allow: AllowList = { ...defaultAllowList(), ...saved.allow };
  const { save, onDisk } = saver(() => ({ allow, transfers: transfers.saved(), counts: transfers.counts() }));
  const transfers = new Transfers(save);
  transfers.load(saved.transfers ?? [], saved.counts);
  const downloads = new Downloads(me, transfers);
  const uploads = new Uploads(me, drive);
  new StatusLine(me, transfers);
  const pushGrants = new Map<string, number>();
  const pushGranted = (node: string, name: string) => {
    for (const [key, until] of pushGrants) {
      if (until < Date.now()) pushGrants.delete(key);
      const [n, granted] = key.split("\n");
      if (n === node && (name === granted || name.startsWith(`${granted}/`))) return true;
    }
    return false;
  };
  downloads.resumeSaved();
  const web = new Web(me, drive, transfers);
  await web.start().catch((e) => println(`file-transfer: the web UI is not served: ${(e as Error).message}`));

  const handle = async (msg: Message) => {
    if (web.owns(msg)) return web.handle(msg);
    const local = msg.source.node === me.node;
    const body = msg.json<unknown>();
    const [kind, arg] = variant(body);
    const answer = (v: unknown) => Response.to(msg).json(v).send();
    switch (kind) {
      case "ListFiles": {
        if (!local && !permits(allow, msg.source.node, "list")) {
          return answer({ Err: refusal(me.node, msg.source.node, "list", pkg) });
        }
        const folder = cleanFolder((arg as { path?: string } | null)?.path);
        const { files, more } = await listFiles(drive, folder);
        // Beside the template's answer: the listing stopped at its bound.
        return answer({ ListFiles: files, ...(more ? { more: true } : {}) });
      }
      case "Has": {
        // Asked before a download is queued (download_checks.ts), so a missing file is said at once.
        const node = msg.source.node;
        const name = cleanName((arg as { name?: unknown } | null)?.name);
        if (!local && !permits(allow, node, "download") && !pushGranted(node, name)) {
          return answer({ Err: refusal(me.node, node, "download", pkg) });
        }
        const m = await vfs.metadata(`${drive}/${name}`).catch(() => null);
        if (m?.file_type !== "File" && m?.file_type !== "Directory") {
          return answer({ Err: `${me.node} has no file named ${name}` });
        }
        return answer({ Has: { is_dir: m.file_type === "Directory", size: m.len } });
      }
      case "Download": {
        const d = arg as DownloadRequest;
        if (d.is_requestor) {
          if (!local) return answer({ Download: { Err: "only this node starts its own downloads" } });
          if (typeof d.target !== "string" || !d.target) {
            return answer({ Download: { Err: "Download needs a target" } });
          }
          const chunk = typeof d.chunk === "number" ? d.chunk : undefined;
          const refused = await downloadRefusal(
            me.node,
            me.process.toString(),
            d.target,
            cleanName(d.name),
            Boolean(d.overwrite),
            drive,
          );
          if (refused) return answer({ Download: { Err: refused.error }, check: refused });
          const t = downloads.request(d.target, d.name, Boolean(d.overwrite), chunk);
          await onDisk(); // acknowledged once a restart would resume it
          return answer({ Download: { Ok: null }, transfer: t.id });
        }
        // A peer's worker asks us to serve a file.
        const node = msg.source.node;
        const name = cleanName(d.name);
        const pushed = pushGranted(node, name);
        if (!permits(allow, node, "download") && !pushed) {
          return answer({ Download: { Err: refusal(me.node, node, "download", pkg) } });
        }
        // Past its limits a node is told at once, before anything costs more than this.
        const busy = uploads.refusal(node, pushed);
        if (busy) return answer({ Download: { Err: busy.error }, refused: busy.refused });
        const m = await vfs.metadata(`${drive}/${name}`).catch(() => null);
        if (!m) return answer({ Download: { Err: `${me.node} has no file named ${name}` } });
        if (m.file_type === "Directory") {
          const passed = await folderTooLarge(me.node, drive, name);
          if (passed) {
            const { bound, max } = passed;
            return answer({ Download: { Err: passed.error }, refused: { FolderTooLarge: { bound, max } } });
          }
          // A folder is its listing: no worker, no place in the queue (the requester downloads each file).
          answer({ Download: { Ok: null } });
          const { files } = await listFiles(drive, name);
          return Request.to(String(msg.source)).json({ Folder: files }).send();
        }
        if (m.file_type !== "File") return answer({ Download: { Err: `${name} on ${me.node} is not a file` } });
        // Checked again: other requests from the node may have been admitted while this one looked.
        const late = uploads.refusal(node, pushed);
        if (late) return answer({ Download: { Err: late.error }, refused: late.refused });
        answer({ Download: { Ok: null } });
        return uploads.admit({ node, receiver: String(msg.source), name, pushed });
      }
      case "Progress":
        if (!local) return;
        if ((arg as { direction?: string }).direction === "upload") {
          uploads.heard(msg.source.process);
          return upload(transfers, arg as UploadProgress);
        }
        return downloads.progress(arg as ProgressRequest);
      case "Finished":
        if (!local) return;
        if ((arg as FinishedRequest).direction === "upload") return uploads.finished(msg.source.process);
        return downloads.finished(arg as FinishedRequest);
      case "Push": {
        if (!local) return answer({ Push: { Err: "only this node pushes its own files" } });
        const { name: raw, target } = arg as { name: string; target: string };
        const name = cleanName(raw);
        const m = await vfs.metadata(`${drive}/${name}`).catch(() => null);
        if (!m) return answer({ Push: { Err: `no file named ${name} here` } });
        const node = String(target).split("@")[0];
        const address = String(target).includes("@") ? String(target) : `${node}@${me.process}`;
        pushGrants.set(`${node}\n${name}`, Date.now() + PUSH_GRANT_MS);
        try {
          const r = await Request.to(address).json({ PushOffer: { name, size: m.len } }).sendAndAwaitResponse(15);
          return answer({ Push: (r.json<{ PushOffer?: unknown }>()).PushOffer ?? { Err: r.text().slice(0, 300) } });
        } catch {
          return answer({ Push: { Err: `${node} is offline or does not run ${me.process}` } });
        }
      }
      case "PushOffer": {
        if (local) return answer({ PushOffer: { Err: "push to another node" } });
        if (!permits(allow, msg.source.node, "push")) {
          return answer({ PushOffer: { Err: refusal(me.node, msg.source.node, "push", pkg) } });
        }
        const name = cleanName((arg as { name: string }).name);
        // Said to the pusher now, not by a download that fails here unseen.
        if (await vfs.metadata(`${drive}/${name}`).then((m) => m.file_type === "File", () => false)) {
          return answer({ PushOffer: { Err: `${name} already exists on ${me.node}: send it under another name` } });
        }
        try {
          downloads.request(`${msg.source.node}@${msg.source.process}`, name, false);
        } catch (e) {
          return answer({ PushOffer: { Err: `${me.node}: ${(e as Error).message}` } });
        }
        await onDisk();
        return answer({ PushOffer: { Ok: null } });
      }
      case "Allow":
      case "Disallow": {
        if (!local) return;
        const { node, action } = arg as { node: string; action: string };
        if (!isPermission(action)) return answer({ Err: `action must be list, download or push, not ${action}` });
        if (typeof node !== "string" || !NODE.test(node)) return answer({ Err: `not a node name: ${node}` });
        change(allow, node, action, kind === "Allow");
        save();
        await onDisk();
        return answer({ AllowList: allow });
      }
      case "AllowList":
        return local ? answer({ AllowList: allow }) : undefined;
      case "Transfers":
        return local ? answer({ Transfers: transfers.list() }) : undefined;
      case "Counts":
        return local ? answer({ Counts: transfers.counts() }) : undefined;
      case "Status": {
        if (!local) return;
        const ids = (arg as { ids?: unknown } | null)?.ids;
        if (!Array.isArray(ids) || ids.length > STATUS_IDS || !ids.every((id) => typeof id === "string")) {
          return answer({ Err: `Status takes {"ids": [...]}, at most ${STATUS_IDS} transfer ids (strings)` });
        }
        return answer({ Status: transfers.status(ids) });
      }
      case "Resume": {
        if (!local) return;
        const id = (arg as { id?: unknown } | null)?.id;
        const t = typeof id === "string" ? transfers.get(id) : undefined;
        const why = id === undefined || id === null ? null : resumeRefusal(String(id), t);
        if (why) return answer({ Err: why });
        // A cancelled download starts again from nothing: what stood in its way then may stand there now.
        if (t?.status === "cancelled") {
          const refused = await downloadRefusal(me.node, me.process.toString(), t.peer, t.name, t.overwrite, drive);
          if (refused) return answer({ Err: refused.error, check: refused });
        }
        const resumed = downloads.resume(t?.id);
        return answer({ Resumed: resumed.length, transfers: resumed });
      }
      case "Cancel": {
        if (!local) return;
        const cancelled = downloads.cancel(String((arg as { id?: string } | null)?.id));
        await onDisk();
        return answer(cancelled ? "Ok" : { Err: "no such transfer" });
      }
      case "Alive":
        // A receiver waiting for the sender it was offered asks whether this node is still there.
        return answer("Alive");
      default:
        if (msg.expectsResponse() !== null) answer({ Err: `unknown request ${JSON.stringify(body).slice(0, 80)}` });
    }
  };

  for await (const msg of requests(() => {})) {
    // Each request is handled on its own, so a slow one (a listing, a spawn) holds up no other.
    handle(msg).catch((e) => {
      if (msg.expectsResponse() === null) return;
      const err = { Err: (e as Error).message };
      // A Download's answer keeps its variant, as the worker API's Result does.
      let kind = "";
      try {
        kind = variant(msg.json<unknown>())[0];
      } catch { /* not JSON: a bare Err */ }
      Response.to(msg).json(kind === "Download" ? { Download: err } : err).send();
    });
  }
}

/** Why transfer `id` (`t`, when there is one) cannot be resumed; null when it can. */
function resumeRefusal(id: string, t: TransferView | undefined): string | null {
  if (!t) return `no transfer ${id} (the transfers command lists them)`;
  const what = `${t.name} from ${t.peer} (${id})`;
  if (t.direction !== "download") return `${t.name} to ${t.peer} (${id}) is ${t.peer}'s download: theirs to resume`;
  if (t.status === "done") return `${what} is done: nothing to resume`;
  if (t.status === "active" || t.status === "pending") {
    return `${what} is already ${t.status === "active" ? "moving" : "waiting its turn"}`;
  }
  return null;
}

interface UploadProgress extends ProgressRequest {
  peer: string;
  /** Set when the sending worker stopped before the end: why. */
  stopped?: string;
  /** Set on the last report, once the receiver said it verified the whole file. */
  done?: boolean;
}

/** A sending worker's report: uploads are kept for the record and the status line. */
function upload(transfers: Transfers, p: UploadProgress) {
  const id = String(p.transfer);
  // Done once the receiver has verified the file, not when the last byte left.
  const done = p.done === true;
  if (!transfers.get(id)) {
    const now = Date.now();
    transfers.add({
      id,
      direction: "upload",
      peer: String(p.peer),
      name: String(p.name),
      status: "active",
      bytes: 0,
      size: p.size ?? null,
      sha256: p.sha256 ?? null,
      speed: 0,
      error: null,
      started: now,
      updated: now,
      overwrite: false,
      attempts: 1,
    });
  }
  if (typeof p.stopped === "string") {
    transfers.update(id, { bytes: p.bytes ?? 0, status: "interrupted", speed: 0, error: p.stopped.slice(0, 300) });
    return;
  }
  transfers.update(id, {
    bytes: p.bytes ?? 0,
    status: done ? "done" : "active",
    // A sending worker's heartbeat after the end carries no stats: those of its last report stay.
    ...(done ? { speed: 0, ...(p.stats ? { stats: p.stats } : {}) } : {}),
  });
}

/** `"ListFiles"` → ["ListFiles", null]; `{"Download": {...}}` → ["Download", {...}]. */
function variant(body: unknown): [string, unknown] {
  if (typeof body === "string") return [body, null];
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const keys = Object.keys(body);
    if (keys.length === 1) return [keys[0], (body as Record<string, unknown>)[keys[0]] ?? null];
  }
  return ["", null];
}

function loadState(): Saved {
  const bytes = getState();
  if (!bytes) return {};
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Saved;
  } catch {
    return {};
  }
}

/**
 * Saves what `snapshot` gives, one write at a time, the latest last: `save`
 * after each change; `onDisk` resolves once every change saved so far is
 * written and fsynced, so an answer sent after it survives kill -9.
 */
function saver(snapshot: () => Saved): { save: () => void; onDisk: () => Promise<void> } {
  let writing: Promise<void> | null = null;
  /** The write after the running one: it takes its snapshot when it starts, so it covers every save meanwhile. */
  let next: Promise<void> | null = null;
  const write = (): Promise<void> => {
    const w = setState(new TextEncoder().encode(JSON.stringify(snapshot()))).catch((e) => {
      println(`could not save the transfers (${(e as Error).message}): they will not resume after a restart`);
    });
    writing = w;
    w.then(() => writing === w && (writing = null));
    return w;
  };
  return {
    save: () => {
      if (!writing) return void write();
      next ??= writing.then(() => {
        next = null;
        return write();
      });
    },
    onDisk: () => next ?? writing ?? Promise.resolve(),
  };
}

export type { ProcessAddress };
