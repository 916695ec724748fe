/** VFS actions on drives, directories and paths: create, list, remove, rename, copy, unpack a zip. */
import type { DirEntry } from "../../runtime/api/vfs.ts";
import { hostPath } from "./paths.ts";
import { VfsFailure } from "./failure.ts";
import { fileType, needBytes, ok, type VfsActionHandler } from "./call.ts";

const renameOrCopy: VfsActionHandler = async (vfs, { source, action, arg, p, host }) => {
  const to = vfs.secondPath(source, action, (arg as { new_path?: unknown })?.new_path);
  await vfs.noSymlinks(p);
  await vfs.noSymlinks(to);
  vfs.hashes.changed(hostPath(vfs.root, to));
  if (action === "Rename") await Deno.rename(host, hostPath(vfs.root, to));
  else await Deno.copyFile(host, hostPath(vfs.root, to));
  return ok();
};

export const DRIVE_ACTIONS: Record<string, VfsActionHandler> = {
  CreateDrive: async (vfs, { source, p, host }) => {
    if (p.rest.length) {
      throw new VfsFailure({ BadRequest: { error: "CreateDrive takes /package:publisher/drive" } });
    }
    await vfs.noSymlinks(p);
    await Deno.mkdir(host, { recursive: true });
    vfs.grantDrive(source, p.drive);
    return ok();
  },
  CreateDir: async (vfs, { p, host }) => {
    await vfs.noSymlinks(p);
    await Deno.mkdir(host).catch((e) => {
      throw new VfsFailure({ CreateDirError: { path: p.path, error: (e as Error).message } });
    });
    return ok();
  },
  CreateDirAll: async (vfs, { p, host }) => {
    await vfs.noSymlinks(p);
    await Deno.mkdir(host, { recursive: true });
    return ok();
  },
  ReadDir: async (vfs, { p, host }) => {
    await vfs.noSymlinks(p);
    const out: DirEntry[] = [];
    for await (const e of Deno.readDir(host)) {
      if (e.name.includes(".vfs-tmp-")) continue;
      out.push({ path: `${p.path}/${e.name}`.slice(1), file_type: fileType(e) });
    }
    out.sort((a, b) => a.path < b.path ? -1 : 1);
    return [{ ReadDir: out }, null];
  },
  RemoveFile: async (vfs, { source, p, host }) => {
    await vfs.noSymlinks(p);
    vfs.files.close(source, p.path);
    await Deno.remove(host);
    return ok();
  },
  RemoveDir: async (vfs, { p, host }) => {
    await vfs.noSymlinks(p);
    await Deno.remove(host);
    return ok();
  },
  RemoveDirAll: async (vfs, { p, host }) => {
    await vfs.noSymlinks(p);
    if (!p.rest.length) {
      throw new VfsFailure({ BadRequest: { error: "remove a drive's contents, not the drive" } });
    }
    await Deno.remove(host, { recursive: true });
    return ok();
  },
  Rename: renameOrCopy,
  CopyFile: renameOrCopy,
  AddZip: async (vfs, c) => {
    await vfs.noSymlinks(c.p);
    await vfs.zip.unpack(c.p, needBytes(c));
    return ok();
  },
};
