/** A node booted after 200 others registered finds them all: how long the indexer takes, printed. */
import { assert, assertEquals } from "./assert.ts";
import { bootNode, registerTestName, removeHome, startChain, waitFor } from "../runtime/testing.ts";
import { HnsIndexer } from "../chain/indexer.ts";

export const SCALE_NODES = 200;

Deno.test(`chain: a node booted after ${SCALE_NODES} registered others knows them all`, async () => {
  const chain = await startChain();
  try {
    const t0 = performance.now();
    for (let i = 0; i < SCALE_NODES; i++) {
      const publicKey = crypto.getRandomValues(new Uint8Array(32));
      const routers = i % 10 === 9 ? [`n${i - 1}.dev`] : [];
      await registerTestName(chain.client, {
        name: `n${i}.dev`,
        publicKey,
        ips: routers.length ? [] : ["127.0.0.1"],
        ports: routers.length ? {} : { tcp: 10_000 + i, ws: 20_000 + i },
        routers,
      });
    }
    const registered = performance.now() - t0;
    // The indexer alone, from block 0: the part of a boot that grows with the number of names.
    const t2 = performance.now();
    let heard = 0;
    const alone = new HnsIndexer({ chain: chain.client, stateFile: null, onUpdate: () => heard++, log: () => {} });
    await alone.start();
    await alone.stop();
    const indexedMs = performance.now() - t2;
    assertEquals(heard, SCALE_NODES);
    const t1 = performance.now();
    const n = await bootNode({ name: "late.dev", network: { chainPort: chain.port } });
    const booted = performance.now() - t1;
    try {
      // The boot reads the chain once before it returns: they are all known by then.
      const known = () => [...Array(SCALE_NODES).keys()].filter((i) => n.net!.hns.has(`n${i}.dev`)).length;
      assertEquals(known(), SCALE_NODES);
      assertEquals(n.net!.hns.get("n19.dev")?.routers, ["n18.dev"]);
      const indexed = n.chain!.indexer;
      console.log(
        `${SCALE_NODES} registrations (one transaction each) in ${registered.toFixed(0)} ms; ` +
          `a node booted after them knew all ${known()} when its boot returned, in ${booted.toFixed(0)} ms ` +
          `(${Object.keys(indexed.state.nodes).length} nodes, block ${indexed.lastBlock}); ` +
          `the indexer alone reads all ${SCALE_NODES} from block 0 in ${indexedMs.toFixed(0)} ms`,
      );
      await waitFor("a round more", () => indexed.rounds >= 2);
      assert(indexed.answering);
    } finally {
      await n.shutdown();
      await removeHome(n);
    }
  } finally {
    await chain.stop();
  }
});
