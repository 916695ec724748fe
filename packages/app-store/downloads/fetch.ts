/**
 * One version's download, mirror after mirror: a file-transfer worker fetches the zip from the mirror's
 * downloads:app-store:sys into our files drive; once it is in, its SHA-256 is compared with the version's code hash.
 * Another hash (a tampered or wrong zip), a refusal or a mirror that stays away: the zip is removed and the next
 * mirror tried. An interrupted transfer resumes from its partial file, from the same mirror, a few times first.
 */
import { type ProcessAddress, vfs } from "@hyperdeno/process_lib";
import { startDownload } from "../../file-transfer/api/file_transfer_worker_api.ts";
import type { FinishedRequest, ProgressRequest } from "../../file-transfer/api/types.ts";
import { toHex } from "../../file-transfer/api/listing.ts";
import type { DownloadError, PackageId } from "../api/types.ts";
import { idString, zipName } from "../api/ids.ts";

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
  bytes: number;
  size: number;
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
      bytes: 0,
      size: 0,
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
    // One partial file per mirror: bytes from one never resume another's.
    f.transfer = `as${f.hash.slice(0, 16)}${f.index}`;
    this.byTransfer.set(f.transfer, f);
    const name = zipName(f.package_id, f.hash);
    startDownload(this.me, this.me, name, `${mirror}@downloads:app-store:sys`, true, {
      transfer: f.transfer,
      overwrite: true,
    }).catch((e) => this.next(f, `could not start a worker: ${(e as Error).message}`));
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
    this.onProgress(f);
    return true;
  }

  /** A worker's Finished; false when it is none of ours. */
  finished(r: FinishedRequest): boolean {
    const f = this.byTransfer.get(r.transfer);
    if (!f) return false;
    if (r.outcome === "done") {
      this.verify(f).catch((e) => this.next(f, `VfsError: ${(e as Error).message}`));
    } else if (r.outcome === "interrupted" && f.resumes < RESUMES) {
      f.resumes++;
      setTimeout(() => this.attempt(f), RESUME_PAUSE_MS);
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
