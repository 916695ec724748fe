/**
 * SHA-256 for vfs:distro:sys, in the hash worker (hash_worker.ts) so the
 * kernel's thread keeps routing: Hash of a whole file, and running hashes
 * that follow a file while WriteAt writes it in order from its start (or
 * appends to what it held), so Hash of a file just received answers at once
 * instead of reading it all again.
 *
 * A running hash counts only while nothing else touches its file: any other
 * write action on the path drops it, and Hash uses it only if the file on disk
 * is still the same file (inode) of exactly the length written. A file changed
 * by something outside the node since, to the same length, is not seen: the
 * node's own processes reach files only through this module.
 */
import { ModuleWorker } from "../../runtime/kernel/module_worker.ts";

/** Running hashes kept at once; the oldest goes first. */
const MAX_RUNNING = 256;

interface RunningHash {
  key: number;
  /** Bytes handed to the worker so far (it follows in order). */
  upTo: number;
  ino: number | null;
}

export class Hashes {
  private worker: ModuleWorker | null = null;
  private running = new Map<string, RunningHash>();
  private nextKey = 1;

  constructor(private root: string) {}

  private hasher(): ModuleWorker {
    return this.worker ??= new ModuleWorker(new URL("./hash_worker.ts", import.meta.url), {
      read: [this.root],
      write: [],
    });
  }

  /** SHA-256 of the file at `host`: its running hash's when that covers the file as it is, else read whole. */
  async hash(host: string): Promise<Uint8Array> {
    const r = this.running.get(host);
    if (r) {
      const st = await Deno.stat(host);
      if (st.ino === r.ino && st.size === r.upTo && this.running.get(host) === r) {
        const digest = await this.hasher().call<Uint8Array | null>("digest", r.key, r.upTo).catch(() => null);
        if (digest) return digest;
      }
    }
    return await this.hasher().call<Uint8Array>("hash", host);
  }

  /**
   * WriteAt put bytes [offset, end) into `host` (inode `ino`), whose length was
   * `sizeBefore`. A write where its running hash stands extends it; one at the
   * file's end starts one (taking what the file held); any other drops it.
   */
  written(host: string, ino: number | null, sizeBefore: number, offset: number, end: number) {
    let r = this.running.get(host);
    let from = offset;
    if (r && (r.upTo !== offset || r.ino !== ino)) {
      this.changed(host);
      r = undefined;
    }
    if (!r) {
      if (offset !== sizeBefore) return;
      r = { key: this.nextKey++, upTo: 0, ino };
      this.running.set(host, r);
      from = 0;
      if (this.running.size > MAX_RUNNING) this.changed(this.running.keys().next().value!);
    }
    const started = r;
    this.hasher().call("extend", r.key, host, from, end).catch(() => {
      if (this.running.get(host) === started) this.running.delete(host);
    });
    r.upTo = end;
  }

  /** `host` (or what lies under it) changed some other way: running hashes there no longer hold. */
  changed(host: string) {
    for (const [path, r] of this.running) {
      if (path !== host && !path.startsWith(host + "/")) continue;
      this.running.delete(path);
      this.worker?.call("drop", r.key).catch(() => {});
    }
  }

  terminate() {
    this.worker?.terminate();
  }
}
