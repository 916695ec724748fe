/**
 * SHA-256 for vfs:distro:sys (node:crypto, native): Hash of a whole file, read
 * a slice at a time so the kernel's thread goes on routing between slices, and
 * running hashes that follow a file while WriteAt writes it, or ReadAt reads
 * it, in order from its start, fed the bytes as they pass, so Hash of a file
 * just received, or just sent, answers at once instead of reading it again.
 * (A hash worker thread was measured: ~19 MiB more per node and a second read
 * of every byte, for no gain on a machine whose cores are already busy.)
 *
 * A running hash counts only while nothing else touches its file: any other
 * write action on the path drops it, and Hash uses it only if the file on disk
 * is still the same file (inode) of exactly the length written. A file changed
 * by something outside the node since, to the same length, is not seen: the
 * node's own processes reach files only through this module. A running hash
 * of reads also keeps the file's modification time at the first read: a file
 * changed since by anyone, the user included, no longer matches it.
 */
import { createHash, type Hash } from "node:crypto";

/** Running hashes kept at once; the oldest goes first. */
const MAX_RUNNING = 256;
const SLICE = 1024 * 1024;

interface RunningHash {
  hash: Hash;
  /** Bytes given to the hash so far. */
  upTo: number;
  ino: number | null;
  /** Set for a hash of reads: the file's modification time (ms) when the first read was hashed. */
  mtime?: number | null;
}

/** SHA-256 of the file at `host`. */
export async function hashFile(host: string): Promise<Uint8Array> {
  const h = createHash("sha256");
  await feed(h, host);
  return new Uint8Array(h.digest());
}

/** Feeds the whole file to `h`, a slice at a time. */
async function feed(h: Hash, host: string) {
  const f = await Deno.open(host, { read: true });
  try {
    const buf = new Uint8Array(SLICE);
    for (let n = await f.read(buf); n !== null; n = await f.read(buf)) h.update(buf.subarray(0, n));
  } finally {
    f.close();
  }
}

export class Hashes {
  private running = new Map<string, RunningHash>();

  /** SHA-256 of the file at `host`: its running hash's when that covers the file as it is, else read whole. */
  async hash(host: string): Promise<Uint8Array> {
    const r = this.running.get(host);
    if (r) {
      const st = await Deno.stat(host);
      const same = r.mtime === undefined || r.mtime === (st.mtime?.getTime() ?? null);
      if (st.ino === r.ino && st.size === r.upTo && same && this.running.get(host) === r) {
        return new Uint8Array(r.hash.copy().digest());
      }
    }
    return await hashFile(host);
  }

  /**
   * WriteAt put `bytes` at `offset` into `host` (inode `ino`). A write at 0
   * starts a running hash; one where a running hash stands extends it; any
   * other drops it. (A resumed file, first written past its start, is hashed
   * whole when asked.)
   */
  written(host: string, ino: number | null, offset: number, bytes: Uint8Array) {
    let r = this.running.get(host);
    if (r && (r.upTo !== offset || r.ino !== ino)) {
      this.changed(host);
      r = undefined;
    }
    if (!r) {
      if (offset !== 0) return;
      this.running.set(host, r = { hash: createHash("sha256"), upTo: 0, ino });
      if (this.running.size > MAX_RUNNING) this.changed(this.running.keys().next().value!);
    }
    r.hash.update(bytes);
    r.upTo = offset + bytes.length;
  }

  /**
   * ReadAt gave `bytes` from `offset` of `host`, whose stat `st` is (taken for
   * a read at 0 only). A read at 0 starts a running hash where none stands; a
   * read at the end of one extends it. Reads elsewhere change nothing (two
   * downloads of one file read the same bytes), and a running hash of writes
   * is left alone.
   */
  read(host: string, offset: number, bytes: Uint8Array, st?: Deno.FileInfo) {
    let r = this.running.get(host);
    if (r && r.mtime === undefined) return;
    if (!r) {
      if (offset !== 0 || !st) return;
      this.running.set(
        host,
        r = { hash: createHash("sha256"), upTo: 0, ino: st.ino, mtime: st.mtime?.getTime() ?? null },
      );
      if (this.running.size > MAX_RUNNING) this.changed(this.running.keys().next().value!);
    }
    if (offset !== r.upTo) return;
    r.hash.update(bytes);
    r.upTo = offset + bytes.length;
  }

  /** `host` (or what lies under it) changed some other way: running hashes there no longer hold. */
  changed(host: string) {
    for (const path of this.running.keys()) {
      if (path === host || path.startsWith(host + "/")) this.running.delete(path);
    }
  }
}
