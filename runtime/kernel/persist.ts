/**
 * Durable writes. A file is written beside its final name, flushed to disk,
 * then renamed over it, and the directory flushed so the rename itself is on
 * disk: a crash leaves either the old bytes or the new ones, never a torn mix,
 * and a write that returned is there after a power cut too. Writes to one path
 * are serialized; when several queue up only the newest is written.
 */

export function writeFileAtomicSync(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  writeFileSyncedSync(tmp, bytes);
  Deno.renameSync(tmp, path);
  syncDirSync(dirOf(path));
}

/** Writes a whole file and flushes its bytes to disk (its directory entry is the caller's to flush). */
export function writeFileSyncedSync(path: string, bytes: Uint8Array): void {
  const f = Deno.openSync(path, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    let off = 0;
    while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
    f.syncDataSync();
  } finally {
    f.close();
  }
}

/** Flushes a directory, so the files created or renamed in it stay after a crash. */
export function syncDirSync(dir: string): void {
  const d = Deno.openSync(dir, { read: true });
  try {
    d.syncSync();
  } finally {
    d.close();
  }
}

/** The directory holding `path`. */
export function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i > 0 ? path.slice(0, i) : i === 0 ? "/" : ".";
}

async function syncDirOf(path: string): Promise<void> {
  const dir = await Deno.open(dirOf(path), { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const f = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.syncData();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
  await syncDirOf(path);
}

/** Coalescing writer: the latest value for each path wins, one write at a time. */
export class LatestWriter {
  private queued = new Map<string, Uint8Array | null>();
  private running = new Map<string, Promise<void>>();

  /** Queues `bytes` for `path` (null removes the file); resolves when durable. */
  write(path: string, bytes: Uint8Array | null): Promise<void> {
    this.queued.set(path, bytes);
    const prev = this.running.get(path);
    if (prev) return prev.then(() => this.drain(path));
    return this.drain(path);
  }

  private drain(path: string): Promise<void> {
    const existing = this.running.get(path);
    if (existing) return existing;
    const run = (async () => {
      while (this.queued.has(path)) {
        const bytes = this.queued.get(path)!;
        this.queued.delete(path);
        if (bytes === null) {
          await Deno.remove(path).then(() => syncDirOf(path), (e) => {
            if (!(e instanceof Deno.errors.NotFound)) throw e;
          });
        } else await writeFileAtomic(path, bytes);
      }
    })().finally(() => this.running.delete(path));
    this.running.set(path, run);
    return run;
  }

  /** Resolves when every queued write is on disk. */
  async flush(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()]);
  }
}

/** Removes temp files a crashed run left behind in `dir`. */
export function removeStaleTemps(dir: string): void {
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && /\.tmp-[0-9a-f]{8}$/.test(e.name)) Deno.removeSync(`${dir}/${e.name}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Reads JSON, returning `fallback` when the file does not exist. */
export function readJsonSync<T>(path: string, fallback: T): T {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return fallback;
    throw e;
  }
  return JSON.parse(text) as T;
}
