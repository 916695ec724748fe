/**
 * Collects the node's garbage at a pace set by the bulk bytes it routes. A
 * transfer leaves a trail of short-lived buffers (file reads, sealed and
 * opened Noise pieces, messages): V8 counts them as external memory and
 * collects only once that has grown by tens of MiB, and the allocator keeps
 * what it freed, so a node moving a file sat ~110 MiB above idle. A full
 * collection every PACE bytes of blobs keeps it near its window instead, and
 * costs less CPU than the collections V8 would have run itself.
 *
 * Measured with `FT_BENCH_BIG_ONLY=1 deno task bench transfer` (1 GiB between
 * two nodes): peak RSS of each node 271-279 → 192-215 MiB with the node's
 * 2 MiB young generation (deno.json), the whole machine's CPU 11.2 → 10.3-11.1
 * CPU-s, the time unchanged.
 *
 * Only where the node's V8 flags expose gc (`--expose-gc`): tests and
 * embedders without it route as before. Process threads never see it (their
 * lockdown removes every global they are not given).
 */
const PACE = 64 * 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
let since = 0;

/** `bytes` of blob passed through the kernel. */
export function routedBlob(bytes: number) {
  if (!gc) return;
  since += bytes;
  if (since < PACE) return;
  since = 0;
  gc();
}
