/**
 * VFS actions on files a process holds open: open, close, reads, writes and
 * seeks at the file's cursor, and reads and writes at an offset (ReadAt,
 * WriteAt). Actions on one open file take turns in the order they came.
 */
import type { SeekFrom } from "../../runtime/api/vfs.ts";
import { checkReadSize, readExactly, seek, writeAll } from "./file_io.ts";
import { VfsFailure } from "./failure.ts";
import { needBytes, ok, type VfsActionHandler, type VfsCall } from "./call.ts";
import { MAX_WRITE_AT_GAP } from "./limits.ts";
import { markSole } from "../../runtime/kernel/sole_blobs.ts";

/**
 * Where ReadAt and WriteAt left each open file, and its inode: a transfer
 * reads or writes a file in order, and a seek and a stat before each piece
 * were two of its three file operations (Deno runs each as an op of its own).
 * Every other action on the file forgets it (`handle`).
 */
const positions = new WeakMap<Deno.FsFile, { cursor: number; ino: number | null }>();

/** The caller's open file, for an action that moves its cursor as it likes. */
async function handle(vfs: Parameters<VfsActionHandler>[0], c: Pick<VfsCall, "source" | "p" | "host">) {
  const f = await vfs.handleFor(c.source, c.p, c.host);
  positions.delete(f);
  return f;
}

/** A handler that waits its turn on the caller's open file. */
function inTurn(h: VfsActionHandler): VfsActionHandler {
  return (vfs, c) => vfs.files.serial(c.source, c.p.path, () => h(vfs, c));
}

/** The non-negative whole number `arg[field]`, or BadRequest saying how to call `action`. */
function count(c: VfsCall, field: string, usage: string): number {
  const v = (c.arg as Record<string, unknown> | null)?.[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new VfsFailure({ BadRequest: { error: `${c.action} needs ${usage}` } });
  }
  return v;
}

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
  WriteAll: inTurn(async (vfs, c) => {
    const bytes = needBytes(c);
    const f = await handle(vfs, c);
    await writeAll(f, bytes);
    return ok();
  }),
  // Not in turn: a sync flushes what is written so far, and writes go on meanwhile.
  /**
   * Flushes through a handle of its own, once the actions queued before it
   * are done: Deno runs one operation at a time per handle, so a sync on the
   * open handle would hold back the writes queued behind it for as long as the
   * disk takes (~0.4 s per 256 MiB here), and a transfer's window with them.
   */
  SyncAll: async (vfs, { source, p, host }) => {
    await handle(vfs, { source, p, host });
    await vfs.files.serial(source, p.path, () => Promise.resolve());
    const own = await Deno.open(host, { read: true });
    try {
      await own.sync();
    } finally {
      own.close();
    }
    return ok();
  },
  ReadToEnd: inTurn(async (vfs, { source, action, p, host }) => {
    const f = await handle(vfs, { source, p, host });
    const pos = await f.seek(0, Deno.SeekMode.Current);
    const len = Math.max(0, (await f.stat()).size - pos);
    checkReadSize(action, p.path, len);
    return ["Read", { mime: null, bytes: await readExactly(f, len) }];
  }),
  ReadExact: inTurn(async (vfs, { source, action, arg, p, host }) => {
    const length = (arg as { length?: unknown })?.length;
    if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
      throw new VfsFailure({ BadRequest: { error: "ReadExact needs {length: bytes}" } });
    }
    checkReadSize(action, p.path, length);
    const f = await handle(vfs, { source, p, host });
    const bytes = await readExactly(f, length);
    if (bytes.length < length) {
      throw new VfsFailure({ IOError: { error: "unexpected end of file", path: p.path } });
    }
    return ["Read", { mime: null, bytes }];
  }),
  Seek: inTurn(async (vfs, { source, arg, p, host }) => {
    const f = await handle(vfs, { source, p, host });
    return [{ SeekFrom: { new_offset: await seek(f, arg as SeekFrom) } }, null];
  }),
  /**
   * Up to `length` bytes at `offset` (fewer at the end of the file); the
   * cursor ends after them. Reads in order from the start keep the file's
   * running SHA-256 (hashes.ts).
   */
  ReadAt: (vfs, c) => {
    const offset = count(c, "offset", "{offset, length} in bytes");
    const length = count(c, "length", "{offset, length} in bytes");
    checkReadSize(c.action, c.p.path, length);
    return vfs.files.serial(c.source, c.p.path, async () => {
      const f = await vfs.handleFor(c.source, c.p, c.host);
      const at = positions.get(f);
      positions.delete(f); // unknown until the read has ended well
      // A read from the start begins a running SHA-256 (hashes.ts), so a file just sent is hashed already.
      const st = offset === 0 ? await f.stat() : undefined;
      if (at?.cursor !== offset) await f.seek(offset, Deno.SeekMode.Start);
      const bytes = await readExactly(f, length);
      positions.set(f, { cursor: offset + bytes.length, ino: at?.ino ?? null });
      vfs.hashes.read(c.host, offset, bytes, st);
      // Read into a buffer of its own, hashed already: a transfer's chunk the kernel may release once sent.
      markSole(bytes);
      return ["Read", { mime: null, bytes }];
    });
  },
  /**
   * The blob written at `offset` (at most MAX_WRITE_AT_GAP past the file's
   * end); the cursor ends after it. Writes in order keep the file's running
   * SHA-256 (hashes.ts).
   */
  WriteAt: (vfs, c) => {
    const offset = count(c, "offset", "{offset} in bytes, and the bytes in the blob");
    const bytes = needBytes(c);
    return vfs.files.serial(c.source, c.p.path, async () => {
      const f = await vfs.handleFor(c.source, c.p, c.host);
      const at = positions.get(f);
      positions.delete(f); // unknown until the write has ended well
      let ino: number | null;
      if (at && at.ino !== null && at.cursor === offset) {
        // Where this file's last WriteAt ended: no gap past its end, whatever has been written since.
        ino = at.ino;
      } else {
        const st = await f.stat();
        if (offset > st.size + MAX_WRITE_AT_GAP) {
          throw new VfsFailure({
            BadRequest: {
              error:
                `WriteAt at ${offset} is more than ${MAX_WRITE_AT_GAP} bytes past the end of ${c.p.path} (${st.size} bytes): write in order`,
            },
          });
        }
        ino = st.ino;
        await f.seek(offset, Deno.SeekMode.Start);
      }
      // The write runs on its own thread while this one hashes the same bytes.
      const writing = writeAll(f, bytes);
      vfs.hashes.written(c.host, ino, offset, bytes);
      try {
        await writing;
      } catch (e) {
        vfs.hashes.changed(c.host);
        throw e;
      }
      positions.set(f, { cursor: offset + bytes.length, ino });
      return ok();
    });
  },
};
