/**
 * downloads:app-store:sys — fetches a version's zip from a mirror (fetch.ts), keeps the zips in its files drive,
 * and serves them to other nodes for the packages it mirrors (a per-app toggle, off until the owner turns it on).
 *
 * From our node only: LocalDownload, AutoUpdate, AddDownload (kit's NewPackage, blob: the zip), GetFiles,
 * RemoveFile, StartMirroring, StopMirroring, and its workers' Progress / Finished. From anyone: MirrorCheck,
 * RemoteDownload, and the file-transfer worker's {"Download": {name, target, is_requestor: false}}.
 * What happens to a download is told to main:app-store:sys (Progress, DownloadComplete, AutoDownloadComplete).
 */
import { getState, type Message, our, Request, requests, Response, setState, vfs } from "@hyperdeno/process_lib";
import { startDownload } from "../../file-transfer/api/file_transfer_worker_api.ts";
import type { DownloadRequest as WorkerDownload, WorkerRequest } from "../../file-transfer/api/types.ts";
import { toHex } from "../../file-transfer/api/listing.ts";
import type { DownloadError, DownloadRequest, DownloadResponse, Entry, PackageId } from "../api/types.ts";
import {
  BadRequest,
  currentHash,
  idString,
  mirrorsOf,
  packageId,
  sha256Hex,
  versionHash,
  zipName,
} from "../api/ids.ts";
import { type Fetch, Fetches } from "./fetch.ts";

/** Zips served to other nodes at once; past it a worker is told busy, and tries again later. */
const MAX_SENDING = 8;
const ZIP = /^([a-z0-9-]+:[a-z0-9.-]+)\/([0-9a-f]{64})\.zip$/;

interface Saved {
  mirroring: string[];
}

export default async function init(_our: string) {
  const me = our();
  const drive = await vfs.createDrive(me.packageId(), "files");
  await vfs.createDrive(me.packageId(), "partial");
  const saved: Saved = loadState();
  const mirroring = new Set(saved.mirroring);
  const save = () => setState(new TextEncoder().encode(JSON.stringify({ mirroring: [...mirroring] })));
  const mainAddr = `${me.node}@main:app-store:sys`;
  const tellMain = (body: DownloadRequest) => Request.to(mainAddr).json(body).send();
  let sending = 0;

  const fetches = new Fetches(
    me,
    drive,
    (f: Fetch) =>
      tellMain({
        Progress: {
          package_id: f.package_id,
          version_hash: f.hash,
          downloaded: f.bytes,
          total: f.size,
          mirror: f.mirrors[f.index],
          resumed_from: f.offset,
        },
      }),
    ({ fetch: f, err, from }) => {
      const tries = f.tries.map(([m, e]) => [m, typeof e === "string" ? e : JSON.stringify(e)] as [string, string]);
      if (f.auto) {
        tellMain({
          AutoDownloadComplete: err
            ? { Err: { package_id: f.package_id, version_hash: f.hash, tries: f.tries } }
            : { Success: { package_id: f.package_id, version_hash: f.hash, manifest_hash: "" } },
        });
      } else {
        tellMain({ DownloadComplete: { package_id: f.package_id, version_hash: f.hash, err, from, tries } });
      }
    },
  );

  const zipPath = (p: PackageId, hash: string) => `${drive}/${zipName(p, hash)}`;
  const have = (p: PackageId, hash: string) => vfs.metadata(zipPath(p, hash)).then((m) => m.len, () => -1);

  /** Serves a zip we mirror to a peer's worker; the answer is the worker protocol's. */
  const serve = async (worker: string, name: string): Promise<{ Ok: null } | { Err: string }> => {
    const m = ZIP.exec(name);
    if (!m) return { Err: `${me.node} serves app zips named <package>/<sha256>.zip, not ${name.slice(0, 100)}` };
    if (!mirroring.has(m[1])) return { Err: `NotMirroring: ${me.node} does not mirror ${m[1]}` };
    if (await vfs.metadata(`${drive}/${name}`).then(() => false, () => true)) {
      return { Err: `FileNotFound: ${me.node} has no version ${m[2].slice(0, 12)}… of ${m[1]}` };
    }
    if (sending >= MAX_SENDING) return { Err: `busy: ${me.node} serves ${MAX_SENDING} zips at once: try again later` };
    sending++;
    try {
      await startDownload(me, worker, name, worker, false);
    } catch (e) {
      sending--;
      return { Err: `WorkerSpawnFailed: ${(e as Error).message}` };
    }
    return { Ok: null };
  };

  const local = async (body: DownloadRequest, msg: Message): Promise<DownloadResponse | undefined> => {
    if ("LocalDownload" in body) {
      const d = body.LocalDownload;
      const p = packageId(d.package_id);
      const hash = versionHash(d.desired_version_hash);
      const mirrors = [String(d.download_from), ...(Array.isArray(d.mirrors) ? d.mirrors.map(String) : [])];
      if (await have(p, hash) >= 0 && await verified(zipPath(p, hash), hash)) {
        tellMain({ DownloadComplete: { package_id: p, version_hash: hash, err: null, from: me.node, tries: [] } });
      } else fetches.start(p, hash, mirrors, false);
      return "Success";
    }
    if ("AutoUpdate" in body) {
      const p = packageId(body.AutoUpdate.package_id);
      const hash = currentHash(body.AutoUpdate.metadata);
      if (!hash) return { Err: "NoPackage" };
      fetches.start(p, hash, mirrorsOf(body.AutoUpdate.metadata, p.publisher_node), true);
      return "Success";
    }
    if ("AddDownload" in body) {
      const p = packageId(body.AddDownload.package_id);
      const hash = versionHash(body.AddDownload.version_hash);
      const bytes = msg.blob()?.bytes;
      if (!bytes) return { Err: "BlobNotFound" };
      const actual = await sha256Hex(bytes);
      if (actual !== hash) return { Err: { HashMismatch: { desired: hash, actual } } };
      await vfs.openDir(`${drive}/${idString(p)}`, true);
      const f = await vfs.createFile(zipPath(p, hash));
      await f.write(bytes);
      if (body.AddDownload.mirror) {
        mirroring.add(idString(p));
        await save();
      }
      return "Success";
    }
    if ("GetFiles" in body) return { GetFiles: await files(body.GetFiles) };
    if ("RemoveFile" in body) {
      const p = packageId(body.RemoveFile.package_id);
      await vfs.removeFile(zipPath(p, versionHash(body.RemoveFile.version_hash))).catch(() => {});
      return "Success";
    }
    if ("StartMirroring" in body || "StopMirroring" in body) {
      const start = "StartMirroring" in body;
      const p = idString(packageId(start ? body.StartMirroring : (body as { StopMirroring: PackageId }).StopMirroring));
      if (start) mirroring.add(p);
      else mirroring.delete(p);
      await save();
      return "Success";
    }
    return undefined;
  };

  const files = async (of: PackageId | null): Promise<Entry[]> => {
    if (of === null) {
      const dirs = await new vfs.Directory(drive).read().catch(() => []);
      return dirs.filter((e) => e.file_type === "Directory").map((e) => {
        const name = e.path.slice(e.path.lastIndexOf("/") + 1);
        return { Dir: { name, mirroring: mirroring.has(name) } };
      });
    }
    const p = packageId(of);
    const listed = await new vfs.Directory(`${drive}/${idString(p)}`).read().catch(() => []);
    const out: Entry[] = [];
    for (const e of listed) {
      if (e.file_type !== "File") continue;
      const m = await vfs.metadata(e.path.startsWith("/") ? e.path : `/${e.path}`).catch(() => null);
      out.push({ File: { name: e.path.slice(e.path.lastIndexOf("/") + 1), size: m?.len ?? 0, manifest: "" } });
    }
    return out;
  };

  const handle = async (msg: Message) => {
    const answer = (v: unknown) => msg.expectsResponse() !== null && Response.to(msg).json(v).send();
    const body = json(msg) as (DownloadRequest & WorkerRequest) | null;
    if (!body || typeof body !== "object") return answer({ Err: "NoPackage" });
    const fromUs = msg.source.node === me.node;
    // The worker protocol, from a peer's worker (or our own worker's reports).
    if ("Download" in body) {
      const d = body.Download as WorkerDownload;
      if (d.is_requestor) return answer({ Download: { Err: "downloads serves zips; it does not fetch for others" } });
      return answer({ Download: await serve(String(msg.source), String(d.name)) });
    }
    if ("RemoteDownload" in body) {
      const r = body.RemoteDownload;
      const p = packageId(r.package_id);
      const worker = String(r.worker_address);
      if (!worker.startsWith(`${msg.source.node}@`)) return answer({ Err: "FileNotFound" });
      const served = await serve(worker, zipName(p, versionHash(r.desired_version_hash)));
      return answer("Ok" in served ? "Success" : { Err: errOf(served.Err) });
    }
    if ("MirrorCheck" in body) {
      return answer(mirroring.has(idString(packageId(body.MirrorCheck))) ? "Success" : { Err: "NotMirroring" });
    }
    if (!fromUs) return answer({ Err: "NoPackage" });
    if ("Progress" in body && body.Progress && "transfer" in body.Progress) {
      return void fetches.progress(body.Progress);
    }
    if ("Finished" in body) {
      if (body.Finished.direction === "upload") return void (sending = Math.max(0, sending - 1));
      return void fetches.finished(body.Finished);
    }
    const r = await local(body, msg);
    if (r !== undefined) return answer(r);
    answer({ Err: "NoPackage" });
  };

  for await (const msg of requests(() => {})) {
    handle(msg).catch((e) => {
      const err: DownloadError = e instanceof BadRequest ? "InvalidManifest" : "VfsError";
      if (msg.expectsResponse() !== null) Response.to(msg).json({ Err: err, error: (e as Error).message }).send();
    });
  }
}

function loadState(): Saved {
  try {
    const s = JSON.parse(new TextDecoder().decode(getState() ?? new Uint8Array()));
    return { mirroring: Array.isArray(s?.mirroring) ? s.mirroring.map(String) : [] };
  } catch {
    return { mirroring: [] };
  }
}

async function verified(path: string, hash: string): Promise<boolean> {
  return toHex(await new vfs.File(path).hash()) === hash;
}

function errOf(text: string): DownloadError {
  for (const e of ["NotMirroring", "FileNotFound", "WorkerSpawnFailed"] as const) if (text.startsWith(e)) return e;
  return "Timeout";
}

function json(msg: Message): unknown {
  try {
    return msg.json();
  } catch {
    return null;
  }
}
