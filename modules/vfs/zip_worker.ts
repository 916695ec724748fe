/**
 * vfs:distro:sys's AddZip, off the kernel's thread: read/write on <home>/vfs
 * only. The archive is unpacked whole in memory first (entry count, every
 * path, and the bytes it really unpacks to checked), then written, so a
 * refused archive leaves the drive as it was.
 */
import { serveCalls, WorkerRefusal } from "../../runtime/kernel/module_worker.ts";
import { hostPath, parseVfsPath, type VfsPath, VfsPathError } from "./paths.ts";
import { inflateEntry, zipEntries, ZipLimitError } from "./zip.ts";

/** Why the zip worker refused an archive. */
export type ZipRefusal = { limit: string } | { path: string };

export interface ZipLimits {
  entries: number;
  bytes: number;
}

/** Throws unless no existing part of `p` below the package folder is a symlink. */
function noSymlinks(root: string, p: VfsPath) {
  let cur = `${root}/${p.packageId}`;
  for (const seg of [p.driveName, ...p.rest]) {
    cur += `/${seg}`;
    try {
      if (Deno.lstatSync(cur).isSymlink) throw new VfsPathError(p.path, `${p.path} passes through a symlink`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
  }
}

function extract(root: string, dir: string, zip: Uint8Array, limits: ZipLimits) {
  const entries = zipEntries(zip, limits.entries);
  const targets = entries.map((e) => parseVfsPath(`${dir}/${e.name}`));
  const budget = { left: limits.bytes };
  const contents = entries.map((e) => inflateEntry(e, budget));
  entries.forEach((e, i) => {
    const out = hostPath(root, targets[i]);
    noSymlinks(root, targets[i]);
    if (e.name.endsWith("/")) return Deno.mkdirSync(out, { recursive: true });
    Deno.mkdirSync(out.slice(0, out.lastIndexOf("/")), { recursive: true });
    Deno.writeFileSync(out, contents[i]);
  });
  return entries.length;
}

serveCalls({
  extract: (root: string, dir: string, zip: Uint8Array, limits: ZipLimits) => {
    try {
      return extract(root, dir, zip, limits);
    } catch (e) {
      // The kind of failure travels as data: {"limit": why} or {"path": why}, else a plain reason.
      if (e instanceof ZipLimitError) throw new WorkerRefusal({ limit: e.message } satisfies ZipRefusal);
      if (e instanceof VfsPathError) throw new WorkerRefusal({ path: e.message } satisfies ZipRefusal);
      throw e;
    }
  },
});
