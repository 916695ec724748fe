/**
 * vfs:distro:sys's SHA-256, off the kernel's thread (read on <home>/vfs only):
 * a whole file, or a running hash that follows a file as it is written in
 * order (extend with each range once it is on disk, then digest), so a file
 * received in chunks is verified without reading it all again at the end.
 * Calls are synchronous: the thread does nothing else.
 */
import { createHash, type Hash } from "node:crypto";
import { serveCalls, WorkerRefusal } from "../../runtime/kernel/module_worker.ts";

const PIECE = 4 * 2 ** 20;
const buf = new Uint8Array(PIECE);
/** Running hashes by the module's key, with how far each has got. */
const running = new Map<number, { hash: Hash; upTo: number }>();

/** Feeds bytes [from, to) of the file at `path` (to its end when `to` is null) to `h`; returns where it stopped. */
function feed(h: Hash, path: string, from: number, to: number | null): number {
  const f = Deno.openSync(path, { read: true });
  try {
    if (from > 0) f.seekSync(from, Deno.SeekMode.Start);
    let at = from;
    while (to === null || at < to) {
      const n = f.readSync(to === null ? buf : buf.subarray(0, Math.min(PIECE, to - at)));
      if (n === null || n === 0) break;
      h.update(buf.subarray(0, n));
      at += n;
    }
    return at;
  } finally {
    f.close();
  }
}

serveCalls({
  hash: (path: string) => {
    const h = createHash("sha256");
    feed(h, path, 0, null);
    return new Uint8Array(h.digest());
  },
  /** Bytes [from, to) are written: a running hash at `from` takes them; one starts at 0. */
  extend: (key: number, path: string, from: number, to: number) => {
    let r = running.get(key);
    if (from === 0) running.set(key, r = { hash: createHash("sha256"), upTo: 0 });
    if (!r || r.upTo !== from) {
      running.delete(key);
      throw new WorkerRefusal("not in order");
    }
    r.upTo = feed(r.hash, path, from, to);
    if (r.upTo !== to) {
      running.delete(key);
      throw new WorkerRefusal("the file is shorter than written");
    }
    return null;
  },
  /** The digest of running hash `key` if it has taken exactly `size` bytes, else null. */
  digest: (key: number, size: number) => {
    const r = running.get(key);
    return r && r.upTo === size ? new Uint8Array(r.hash.copy().digest()) : null;
  },
  drop: (key: number) => {
    running.delete(key);
    return null;
  },
  close: () => {
    running.clear();
    return null;
  },
});
