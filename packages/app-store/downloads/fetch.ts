/**
 * One version's download, mirror after mirror: a file-transfer worker fetches the zip from the mirror's
 * downloads:app-store:sys into our files drive; once it is in, its SHA-256 is compared with the version's code hash.
 * Another hash (a tampered or wrong zip), a refusal or a mirror that stays away: the zip is removed and the next
 * mirror tried. An interrupted transfer resumes from its partial file, from the same mirror, a few times first.
 */
import { type ProcessAddress, Request, vfs } from "@hyperdeno/process_lib";
import { startDownload } from "../../file-transfer/api/file_transfer_worker_api.ts";
import type { FinishedRequest, ProgressRequest } from "../../file-transfer/api/types.ts";
import { toHex } from "../../file-transfer/api/listing.ts";
import type { DownloadError, PackageId } from "../api/types.ts";
import { idString, zipName } from "../api/ids.ts";

/**
 * The largest zip taken from a mirror: more is refused as soon as the mirror announces its size (a hostile mirror
 * would otherwise fill the disk). The main process reads a zip whole to unpack it, and the VFS reads at most 256 MiB.
 */
export const MAX_ZIP_BYTES = 128 * 1024 * 1024;
/** Resumes from one mirror before the next is tried. */
const RESUMES = 3;
const RESUME_PAUSE_MS = 1_000;

export interface Fetch {
  package_id: PackageId;
  hash: string;
  mirrors: string[];
  index: number;
  /** [mirror, why it did not serve]. */
  tries: [string, DownloadError | string][];
  resumes: number;
  auto: boolean;
  transfer: string;
  /** The worker fetching it now, once spawned. */
  worker: string | null;
  /** Why the worker was told to stop (then its end is this mirror's failure, not a reason to resume). */
  stopped: string | null;
  bytes: number;
  size: number;
  /** Where the current attempt started: more than 0 when it resumed a partial file. */
  offset: number;
}

export interface Outcome {
  fetch: Fetch;
  err: DownloadError | null;
  from: string | null;
}

export class Fetches {
  private byTransfer = new Map<string, Fetch>();
  private byKey = new Map<string, Fetch>();

  constructor(
    private me: ProcessAddress,
    private drive: string,
    private onProgress: (f: Fetch) => void,
    private onDone: (o: Outcome) => void,
  ) {}

  list(): Fetch[] {
    return [...this.byKey.values()];
  }

  /** Starts fetching a version unless it is being fetched already. */
  start(package_id: PackageId, hash: string, mirrors: string[], auto: boolean) {
    const key = `${idString(package_id)}/${hash}`;
    if (this.byKey.has(key)) return;
    const others = mirrors.filter((m) => m !== this.me.node);
    const f: Fetch = {
      package_id,
      hash,
      mirrors: others,
      index: 0,
      tries: [],
      resumes: 0,
      auto,
      transfer: "",
      worker: null,
      stopped: null,
      bytes: 0,
      size: 0,
      offset: 0,
    };
    this.byKey.set(key, f);
    this.attempt(f);
  }

  private attempt(f: Fetch) {
    const mirror = f.mirrors[f.index];
    if (mirror === undefined) {
      const last = f.tries.at(-1)?.[1];
      return this.end(f, typeof last === "object" || last === "Offline" ? last : "Offline", null);
    }
    // One partial file per mirror (the same name each time: an interrupted attempt resumes from it); bytes from one
    // mirror never resume another's.
    f.transfer = `as${f.hash.slice(0, 16)}${f.index}`;
    this.byTransfer.set(f.transfer, f);
    const name = zipName(f.package_id, f.hash);
    f.worker = null;
    f.stopped = null;
    startDownload(this.me, this.me, name, `${mirror}@downloads:app-store:sys`, true, {
      transfer: f.transfer,
      overwrite: true,
    }).then(
      (worker) => f.worker = worker,
      (e) => this.next(f, `could not start a worker: ${(e as Error).message}`),
    );
  }

  private next(f: Fetch, why: DownloadError | string) {
    f.tries.push([f.mirrors[f.index], why]);
    this.byTransfer.delete(f.transfer);
    f.index++;
    f.resumes = 0;
    f.bytes = 0;
    this.attempt(f);
  }

  /** A worker's Progress; false when it is none of ours. */
  progress(p: ProgressRequest): boolean {
    const f = p.transfer ? this.byTransfer.get(p.transfer) : undefined;
    if (!f) return false;
    f.bytes = p.bytes ?? f.bytes;
    f.size = p.size ?? f.size;
    f.offset = p.offset ?? f.offset;
    if (f.size > MAX_ZIP_BYTES && !f.stopped && f.worker) {
      f.stopped = `TooLarge: ${f.mirrors[f.index]} offered ${f.size} bytes, over the ${MAX_ZIP_BYTES} a zip may have`;
      Request.to(f.worker).json("Cancel").send();
    }
    this.onProgress(f);
    return true;
  }

  /** A worker's Finished; false when it is none of ours. */
  finished(r: FinishedRequest): boolean {
    const f = this.byTransfer.get(r.transfer);
    if (!f) return false;
    if (f.stopped) {
      this.next(f, f.stopped);
    } else if (r.outcome === "done") {
      this.verify(f).catch((e) => this.next(f, `VfsError: ${(e as Error).message}`));
    } else if (r.outcome === "interrupted" && f.resumes < RESUMES) {
      f.resumes++;
      // 1, 2, 4 s: a mirror that restarts is waited for; one that stays away gives way to the next.
      setTimeout(() => this.attempt(f), RESUME_PAUSE_MS * 2 ** (f.resumes - 1));
    } else {
      this.next(f, r.outcome === "interrupted" ? "Offline" : String(r.error ?? "failed"));
    }
    return true;
  }

  /** The zip's own SHA-256 against the code hash: only a match is kept. */
  private async verify(f: Fetch) {
    const path = `${this.drive}/${zipName(f.package_id, f.hash)}`;
    const actual = toHex(await new vfs.File(path).hash());
    if (actual !== f.hash) {
      await vfs.removeFile(path).catch(() => {});
      return this.next(f, { HashMismatch: { desired: f.hash, actual } });
    }
    this.end(f, null, f.mirrors[f.index]);
  }

  private end(f: Fetch, err: DownloadError | null, from: string | null) {
    this.byTransfer.delete(f.transfer);
    this.byKey.delete(`${idString(f.package_id)}/${f.hash}`);
    this.onDone({ fetch: f, err, from });
  }
}
