/** VFS actions on files a process holds open: open, close, and reads, writes and seeks at the file's offset. */
import type { SeekFrom } from "../../runtime/api/vfs.ts";
import { checkReadSize, readExactly, seek, writeAll } from "./file_io.ts";
import { VfsFailure } from "./failure.ts";
import { needBytes, ok, type VfsActionHandler } from "./call.ts";

export const OPEN_FILE_ACTIONS: Record<string, VfsActionHandler> = {
  CreateFile: async (vfs, { source, p, host }) => {
    await vfs.noSymlinks(p);
    await vfs.files.open(source, p.path, host, { write: true, read: true, create: true, truncate: true });
    return ok();
  },
  OpenFile: async (vfs, { source, arg, p, host }) => {
    const create = Boolean((arg as { create?: unknown })?.create);
    await vfs.noSymlinks(p);
    await vfs.files.open(source, p.path, host, { read: true, write: true, create });
    return ok();
  },
  CloseFile: (vfs, { source, p }) => {
    vfs.files.close(source, p.path);
    return Promise.resolve(ok());
  },
  WriteAll: async (vfs, c) => {
    const bytes = needBytes(c);
    const f = await vfs.handleFor(c.source, c.p, c.host);
    await writeAll(f, bytes);
    return ok();
  },
  SyncAll: async (vfs, { source, p, host }) => {
    const f = await vfs.handleFor(source, p, host);
    await f.sync();
    return ok();
  },
  ReadToEnd: async (vfs, { source, action, p, host }) => {
    const f = await vfs.handleFor(source, p, host);
    const pos = await f.seek(0, Deno.SeekMode.Current);
    const len = Math.max(0, (await f.stat()).size - pos);
    checkReadSize(action, p.path, len);
    return ["Read", { mime: null, bytes: await readExactly(f, len) }];
  },
  ReadExact: async (vfs, { source, action, arg, p, host }) => {
    const length = (arg as { length?: unknown })?.length;
    if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
      throw new VfsFailure({ BadRequest: { error: "ReadExact needs {length: bytes}" } });
    }
    checkReadSize(action, p.path, length);
    const f = await vfs.handleFor(source, p, host);
    const bytes = await readExactly(f, length);
    if (bytes.length < length) {
      throw new VfsFailure({ IOError: { error: "unexpected end of file", path: p.path } });
    }
    return ["Read", { mime: null, bytes }];
  },
  Seek: async (vfs, { source, arg, p, host }) => {
    const f = await vfs.handleFor(source, p, host);
    return [{ SeekFrom: { new_offset: await seek(f, arg as SeekFrom) } }, null];
  },
};
