/**
 * The node's heap pacer on a clock the test moves: memory handed back to the system once blobs stop, and nothing
 * collected while they flow. (What it saves is measured by `deno task bench transfer`, README.)
 */
import { assert, assertEquals } from "./assert.ts";
import { HeapPacer, mallocTrim } from "../runtime/kernel/heap_pacer.ts";

const MiB = 2 ** 20;

/** A pacer on a clock the test moves, counting what it collected and trimmed. */
function rig(withTrim = true) {
  let t = 0;
  const timers: { at: number; f: () => void }[] = [];
  const seen = { minor: 0, full: 0, trims: 0 };
  const pacer = new HeapPacer({
    gc: () => seen.full++,
    trim: withTrim ? () => seen.trims++ : null,
    now: () => t,
    later: (f, ms) => timers.push({ at: t + ms, f }),
  });
  /** Moves the clock by `ms`, running the timers that fall due. */
  const advance = (ms: number) => {
    const end = t + ms;
    for (let next = timers.sort((a, b) => a.at - b.at)[0]; next && next.at <= end; next = timers[0]) {
      timers.shift();
      t = next.at;
      next.f();
      timers.sort((a, b) => a.at - b.at);
    }
    t = end;
  };
  return { pacer, seen, advance, timers };
}

Deno.test("heap pacer: nothing is collected while blobs flow (each forced collection stops the node)", () => {
  const { pacer, seen, advance } = rig();
  for (let i = 0; i < 1024; i++) {
    pacer.routed(MiB);
    advance(10);
  }
  assertEquals(seen, { minor: 0, full: 0, trims: 0 });
});

Deno.test("heap pacer: memory goes back to the system once blobs stop, not while they flow", () => {
  const { pacer, seen, advance } = rig();
  // 100 MiB, a MiB every 100 ms: no quiet spell of 2 s, so no trim along the way.
  for (let i = 0; i < 100; i++) {
    pacer.routed(MiB);
    advance(100);
  }
  assertEquals(seen.trims, 0);
  const fullBefore = seen.full;
  advance(1_800); // 1.9 s after the last blob: not yet
  assertEquals(seen.trims, 0);
  advance(200);
  assertEquals(seen.trims, 1);
  assertEquals(seen.full, fullBefore + 1, "a full collection frees the buffers before the trim");
  advance(60_000);
  assertEquals(seen.trims, 1, "one quiet spell, one trim");
});

Deno.test("heap pacer: a few blobs, or no way to trim, set no timer", () => {
  const few = rig();
  for (let i = 0; i < 63; i++) few.pacer.routed(MiB);
  assertEquals(few.timers.length, 0);
  few.advance(10_000);
  assertEquals(few.seen.trims, 0);

  const none = rig(false);
  for (let i = 0; i < 200; i++) none.pacer.routed(MiB);
  assertEquals(none.timers.length, 0);
});

Deno.test("heap pacer: each busy spell after a trim ends in its own", () => {
  const { pacer, seen, advance } = rig();
  for (let round = 1; round <= 3; round++) {
    for (let i = 0; i < 64; i++) pacer.routed(MiB);
    advance(2_000);
    assertEquals(seen.trims, round);
  }
});

Deno.test("heap pacer: glibc's malloc_trim loads under the node's flags and runs", () => {
  if (Deno.build.os !== "linux") return;
  const trim = mallocTrim();
  assert(trim, "the node's flags carry --allow-ffi and this is glibc: malloc_trim should load");
  trim();
});

Deno.test("heap pacer: a boot or an install settles the heap once quiet, blobs or not", () => {
  const { pacer, seen, advance } = rig();
  pacer.settle();
  advance(1_000);
  pacer.routed(MiB); // activity puts the quiet spell off
  advance(1_999);
  assertEquals(seen.trims, 0);
  advance(1);
  assertEquals(seen.trims, 1);

  const none = rig(false);
  none.pacer.settle();
  assertEquals(none.timers.length, 0);
});
