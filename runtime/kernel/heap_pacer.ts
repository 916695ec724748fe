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
 * Only where the node's V8 flags expose gc (`--expose-gc`): tests and
 * embedders without it route as before. Process threads never get it (their
 * lockdown empties it, lockdown.ts).
 */
const PACE = 16 * 1024 * 1024;
const FULL_EVERY = 4;

const gc = (globalThis as { gc?: (o?: unknown) => void }).gc;
let since = 0;
let collections = 0;

/** `bytes` of blob passed through the kernel. */
export function routedBlob(bytes: number) {
  if (!gc) return;
  since += bytes;
  if (since < PACE) return;
  since = 0;
  if (++collections % FULL_EVERY === 0) gc();
  else gc({ type: "minor" });
}
