/** VFS actions on a whole file by its path: write it atomically, append, read, and what it is. */
import { fromUtf8 } from "../../runtime/types.ts";
import { readWhole, writeAll } from "./file_io.ts";
import { VfsFailure } from "./failure.ts";
import { fileType, needBytes, ok, type VfsActionHandler } from "./call.ts";

/**
 * Whole-file writes replace atomically: the bytes go to a file of the
 * runtime's scratch folder, renamed over the target, so a crash leaves the old
 * file or the new one, and half-written bytes only where the next boot clears
 * them (never beside the file, where a folder the app sees empty would not
 * go). A drive on another filesystem gets its temporary file beside the
 * target (ReadDir hides it).
 */
async function writeReplacing(scratch: string, host: string, bytes: Uint8Array) {
  const id = crypto.randomUUID().slice(0, 8);
  let tmp = `${scratch}/${id}`;
  try {
    await Deno.writeFile(tmp, bytes);
    try {
      await Deno.rename(tmp, host);
    } catch (e) {
      if (!/cross-device|os error 18/i.test(String(e))) throw e;
      await Deno.remove(tmp);
      tmp = `${host}.vfs-tmp-${id}`;
      await Deno.writeFile(tmp, bytes);
      await Deno.rename(tmp, host);
    }
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

export const FILE_ACTIONS: Record<string, VfsActionHandler> = {
  Write: async (vfs, c) => {
    const { source, p, host } = c;
    const bytes = needBytes(c);
    await vfs.noSymlinks(p);
    await writeReplacing(vfs.scratch, host, bytes);
    vfs.files.close(source, p.path);
    return ok();
  },
  Append: async (vfs, c) => {
    const bytes = needBytes(c);
    await vfs.noSymlinks(c.p);
    const f = await Deno.open(c.host, { append: true, create: true });
    try {
      await writeAll(f, bytes);
    } finally {
      f.close();
    }
    return ok();
  },
  Read: async (vfs, { action, p, host }) => {
    await vfs.noSymlinks(p);
    return ["Read", { mime: null, bytes: await readWhole(action, p.path, host) }];
  },
  ReadToString: async (vfs, { action, p, host }) => {
    await vfs.noSymlinks(p);
    return [{ ReadToString: fromUtf8(await readWhole(action, p.path, host)) }, null];
  },
  Metadata: async (vfs, { p, host }) => {
    await vfs.noSymlinks(p);
    const st = await Deno.lstat(host);
    // Beyond the book, for files: when it last changed (ms), so a reader can tell a file rewritten in place.
    const modified = st.isFile && st.mtime ? { modified: st.mtime.getTime() } : {};
    return [{ Metadata: { file_type: fileType(st), len: st.size, ...modified } }, null];
  },
  Len: async (vfs, { p, host }) => {
    await vfs.noSymlinks(p);
    return [{ Len: (await Deno.stat(host)).size }, null];
  },
  SetLen: async (vfs, { arg, p, host }) => {
    if (typeof arg !== "number" || !Number.isSafeInteger(arg) || arg < 0) {
      throw new VfsFailure({ BadRequest: { error: "SetLen needs a length in bytes" } });
    }
    await vfs.noSymlinks(p);
    await Deno.truncate(host, arg);
    return ok();
  },
  Hash: async (vfs, { p, host }) => {
    await vfs.noSymlinks(p);
    return [{ Hash: [...await vfs.hashes.hash(host)] }, null];
  },
};
