/**
 * Hands the node's garbage back to the system once a transfer is over. A
 * transfer leaves a trail of short-lived buffers (file reads, sealed and
 * opened Noise pieces, messages): V8 collects them as it sees fit, and glibc
 * keeps what was freed in its heap, so a node that had moved a file stayed
 * 20-37 MiB above idle for good. So once blobs stop (QUIET_MS with none,
 * after at least TRIM_AFTER of them), and once a boot or an install is done,
 * one full collection and glibc's malloc_trim hand that memory back.
 *
 * It collects nothing while blobs flow. It used to: a young collection every
 * 16 MiB of blobs and a full one every 64 MiB kept each node's peak ~50 MiB
 * lower, but every forced collection stops the node's thread, and on
 * 2026-12-07 (`FT_BENCH_BIG_ONLY=1 deno task bench transfer`, three 1 GiB
 * downloads each, one run after the other on a quiet machine) that pacing
 * cost 10.1-11.4 s and 17.7 CPU-s per GiB against 6.5-8.3 s and 12.1 without
 * it (peak RSS of each node tree 254-265 MiB against 299-314). Young
 * collections alone, or a full one every 64 MiB alone, were as slow or slower
 * (9.1-12.3 s, 15.9 CPU-s; 11.7-11.9 s) and kept less of the memory.
 * Trimming after every collection cost more again (the freed pages fault back in).
 *
 * Only where the node's V8 flags expose gc (`--expose-gc`): tests and
 * embedders without it route as before. Process threads never get it (their
 * lockdown empties it, lockdown.ts).
 */
/** Blobs routed since the last trim before a quiet spell ends in one. */
const TRIM_AFTER = 64 * 1024 * 1024;
/** How long without a blob counts as quiet. */
const QUIET_MS = 2_000;

export interface PacerParts {
  gc: () => void;
  /** Returns freed memory to the system (malloc_trim), where the process may. */
  trim: (() => void) | null;
  now: () => number;
  /** Calls `f` once after `ms`, without keeping the process alive. */
  later: (f: () => void, ms: number) => void;
}

export class HeapPacer {
  private untrimmed = 0;
  private lastBlob = 0;
  private waiting = false;

  constructor(private parts: PacerParts) {}

  /** `bytes` of blob passed through the kernel. */
  routed(bytes: number) {
    this.untrimmed += bytes;
    this.lastBlob = this.parts.now();
    if (this.parts.trim && this.untrimmed >= TRIM_AFTER && !this.waiting) this.waitForQuiet();
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
