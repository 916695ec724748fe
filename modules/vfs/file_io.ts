/**
 * Reading and writing through open files for vfs:distro:sys, bounded: a read
 * never returns more than MAX_READ_BYTES.
 */
import { MAX_READ_BYTES } from "./limits.ts";
import type { SeekFrom } from "../../runtime/api/vfs.ts";
import { VfsFailure } from "./failure.ts";
import { parseVariant } from "../../runtime/api/variant.ts";

const MiB = 1024 * 1024;

/** The VfsError for a read of `size` bytes, or nothing when it is within the cap. */
export function checkReadSize(action: string, path: string, size: number) {
  if (size <= MAX_READ_BYTES) return;
  throw new VfsFailure({
    BadRequest: {
      error: `${action} of ${path} would return ${(size / MiB).toFixed(1)} MiB, more than the ${
        MAX_READ_BYTES / MiB
      } MiB one read may: read it in chunks (Seek, then ReadExact of at most ${MAX_READ_BYTES} bytes)`,
    },
  });
}

export async function writeAll(f: Deno.FsFile, bytes: Uint8Array) {
  let off = 0;
  while (off < bytes.length) off += await f.write(bytes.subarray(off));
}

/** Up to `length` bytes from the cursor (fewer at the end of the file). */
export async function readExactly(f: Deno.FsFile, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const n = await f.read(buf.subarray(off));
    if (n === null) break;
    off += n;
  }
  return off === length ? buf : buf.subarray(0, off);
}

/**
 * A whole file, opened just for this read. Its size is taken from the open
 * handle and at most one byte past the cap is read, so a file that grows
 * meanwhile cannot make the read larger than the cap.
 */
export async function readWhole(action: string, path: string, host: string): Promise<Uint8Array> {
  const f = await Deno.open(host, { read: true });
  try {
    checkReadSize(action, path, (await f.stat()).size);
    const bytes = await readExactly(f, (await f.stat()).size + 1);
    checkReadSize(action, path, bytes.length);
    return bytes;
  } finally {
    f.close();
  }
}

export async function seek(f: Deno.FsFile, s: SeekFrom): Promise<number> {
  const [mode, n] = typeof s === "object" ? parseVariant(s) ?? [] : [];
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    throw new VfsFailure({ BadRequest: { error: 'Seek needs {"Start"|"End"|"Current": offset}' } });
  }
  if (mode === "Start" && n >= 0) return await f.seek(n, Deno.SeekMode.Start);
  if (mode === "End") return await f.seek(n, Deno.SeekMode.End);
  if (mode === "Current") return await f.seek(n, Deno.SeekMode.Current);
  throw new VfsFailure({ BadRequest: { error: 'Seek needs {"Start"|"End"|"Current": offset}' } });
}
