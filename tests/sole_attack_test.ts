/**
 * A process that answers its own pending request to vfs, to make the kernel release the request's blob before vfs
 * has written it (runtime/kernel/sole_blobs.ts): plainly, with a copy of the blob in a SendError already on its way to
 * the process, and with one in a fetch_blob reply. Before the release asked that the answer come from the request's
 * own target, vfs wrote an empty file, and the other two crashed the node encoding a detached buffer (found by a
 * review that attacked it).
 */
import { assertEquals } from "./assert.ts";
import { injectJson, withNode } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

for (const how of ["plain", "senderror", "fetch"]) {
  Deno.test(`sole attack: ${how}: the node lives on`, () =>
    withNode([`${FIXTURES}sole_attack`], async (n) => {
      const r = await injectJson<Record<string, unknown>>(n, "attacker:soleattack:test.os", how, 30);
      console.log(how, JSON.stringify(r));
      // What the process asked vfs to write: whole before the early release (its own fake answer released it).
      assertEquals(r.dstLen, 256 * 1024, "the WriteAt vfs did");
      const again = await injectJson<unknown>(n, "attacker:soleattack:test.os", "ping", 10);
      assertEquals(again, "pong");
    }));
}
