/**
 * The early release of blob buffers (runtime/kernel/sole_blobs.ts) against two processes sharing one blob object
 * in the kernel: one remembered for its first holder's blobOf, and one a timed-out request hands back in its
 * SendError. Both failed (an empty file written "Ok"; the node crashed encoding a detached buffer) before a send of
 * a blob to anyone but vfs or another node dropped its mark (found by a review that attacked it).
 */
import { assertEquals } from "./assert.ts";
import { injectJson, withNode } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

Deno.test("sole blobs: a read's blob inherited by a keeper and written by it is still whole for its first holder", () =>
  withNode([`${FIXTURES}sole`], async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, "owner:sole:test.os", "shared", 60);
    console.log(JSON.stringify(r));
    assertEquals(r.aLen, 256 * 1024);
    assertEquals(r.bLen, 256 * 1024, "the owner's blobOf(read) after relay wrote it");
  }));

Deno.test("sole blobs: a kept read handed to a local keeper that wrote it comes back whole in the SendError of a timeout", () =>
  withNode([`${FIXTURES}sole`], async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, "owner:sole:test.os", "late", 60);
    console.log(JSON.stringify(r));
    assertEquals(r.kind, "Timeout");
    assertEquals(r.cLen, 256 * 1024);
    assertEquals(r.handedBack, 256 * 1024, "the SendError's blob");
  }));
