/**
 * Collects the node's garbage at a pace set by the bulk bytes it routes. A
 * transfer leaves a trail of short-lived buffers (file reads, sealed and
 * opened Noise pieces, messages): V8 counts them as external memory and
 * collects only once that has grown by tens of MiB, and the allocator keeps
 * what it freed, so a node moving a file sat ~110 MiB above idle. A young
 * generation collection every PACE bytes of blobs (cheap: the buffers die
 * young), and a full one every FULL_EVERY of those, keep it near its window
 * instead, and cost less CPU than the collections V8 would have run itself.
 *
 * Measured with `FT_BENCH_BIG_ONLY=1 deno task bench transfer` (1 GiB between
 * two nodes, each with a 2 MiB young generation, deno.json): peak RSS of the
 * receiving node 271 → 191 MiB, of the sending one 279 → 208 MiB, the whole
 * machine's CPU 11.2 → 10.0-10.3 CPU-s, the time 6.7 → 6.1 s. A full
 * collection every 32 MiB instead cost 3 CPU-s more; one every 64 MiB alone left
 * the nodes at 192-215 MiB.
 *
 * The buffers a full collection frees go back to glibc's heap, which keeps
 * them: a node that had moved a file stayed 20-37 MiB above idle for good.
 * So once blobs stop (QUIET_MS with none, after at least TRIM_AFTER of them),
 * and once a boot or an install is done, one more full collection and
 * glibc's malloc_trim hand that memory back.
 * Not during a transfer: trimming after every full collection there cost ~3
 * CPU-s per GiB more (the freed pages fault back in) and lowered no peak.
 *
 * Only where the node's V8 flags expose gc (`--expose-gc`): tests and
 * embedders without it route as before. Process threads never get it (their
 * lockdown empties it, lockdown.ts).
 */
const PACE = 16 * 1024 * 1024;
const FULL_EVERY = 4;
/** Blobs routed since the last trim before a quiet spell ends in one. */
const TRIM_AFTER = 64 * 1024 * 1024;
/** How long without a blob counts as quiet. */
const QUIET_MS = 2_000;

export interface PacerParts {
  gc: (o?: { type: "minor" }) => void;
  /** Returns freed memory to the system (malloc_trim), where the process may. */
  trim: (() => void) | null;
  now: () => number;
  /** Calls `f` once after `ms`, without keeping the process alive. */
  later: (f: () => void, ms: number) => void;
}

export class HeapPacer {
  private since = 0;
  private collections = 0;
  private untrimmed = 0;
  private lastBlob = 0;
  private waiting = false;

  constructor(private parts: PacerParts) {}

  /** `bytes` of blob passed through the kernel. */
  routed(bytes: number) {
    const { gc, trim } = this.parts;
    this.since += bytes;
    this.untrimmed += bytes;
    this.lastBlob = this.parts.now();
    if (trim && this.untrimmed >= TRIM_AFTER && !this.waiting) this.waitForQuiet();
    if (this.since < PACE) return;
    this.since = 0;
    if (++this.collections % FULL_EVERY === 0) gc();
    else gc({ type: "minor" });
  }

  /**
   * Trims at the next quiet spell whatever was routed: after work that leaves garbage but no blobs (a boot, an
   * install), so a node does not idle with the heap that work left.
   */
  settle() {
    if (!this.parts.trim) return;
    this.lastBlob = this.parts.now();
    if (!this.waiting) this.waitForQuiet();
  }

  private waitForQuiet() {
    this.waiting = true;
    const check = () => {
      const quietFor = this.parts.now() - this.lastBlob;
      if (quietFor < QUIET_MS) return this.parts.later(check, QUIET_MS - quietFor);
      this.waiting = false;
      this.untrimmed = 0;
      this.parts.gc();
      this.parts.trim!();
    };
    this.parts.later(check, QUIET_MS);
  }
}

/** glibc's malloc_trim(0), or null off Linux, without --allow-ffi, or without glibc. */
export function mallocTrim(): (() => void) | null {
  try {
    if (Deno.build.os !== "linux" || Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const libc = Deno.dlopen("libc.so.6", { malloc_trim: { parameters: ["usize"], result: "i32" } });
    return () => void libc.symbols.malloc_trim(0n);
  } catch {
    return null;
  }
}

const exposed = (globalThis as { gc?: (o?: unknown) => void }).gc;
const pacer = exposed
  ? new HeapPacer({
    gc: exposed,
    trim: mallocTrim(),
    now: () => Date.now(),
    later: (f, ms) => Deno.unrefTimer(setTimeout(f, ms)),
  })
  : null;

/** `bytes` of blob passed through the kernel. */
export function routedBlob(bytes: number) {
  pacer?.routed(bytes);
}

/** The node's work of the moment (a boot, an install) is done: its garbage goes back to the system once quiet. */
export function settleHeap() {
  pacer?.settle();
}
