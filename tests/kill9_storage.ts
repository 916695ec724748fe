/**
 * kill -9 while an app writes: the scribe fixture writes numbered records to
 * a file per record (VFS Write), a log (VFS Append), KV and SQLite (a
 * transaction per record), several in flight per store; the test counts a
 * write acknowledged when its answer reaches it. The node's process group is
 * SIGKILLed at a random moment, booted again on its home, and every record is
 * read back through the node.
 */
import { assertEquals } from "./assert.ts";
import { cli } from "./cli_helpers.ts";
import { FIXTURES } from "./helpers.ts";
import { inject, type TestChain, waitFor } from "../runtime/testing.ts";
import { askRunning, seeded, sleep, withRebooting } from "./kill9_helpers.ts";

const SCRIBE = "scribe:scribe:test.os";
const STORES = ["file", "append", "kv", "sql"] as const;
type Store = typeof STORES[number];
/** Writes in flight at once per store (the log takes one at a time: appends in order). */
const IN_FLIGHT: Record<Store, number> = { file: 4, append: 1, kv: 4, sql: 4 };

interface Report {
  present: number[];
  bad: number[];
  strays: string[];
  tornTail: number;
  thrown?: string;
}

export function storageRounds(chain: TestChain, rounds: number): Promise<number[]> {
  const rng = seeded("kill -9 during VFS/KV/SQLite writes");
  const acked: Record<Store, Set<number>> = { file: new Set(), append: new Set(), kv: new Set(), sql: new Set() };
  /** Every index sent to each store (acknowledged or not): where a KV check looks. */
  const sent: Record<Store, number[]> = { file: [], append: [], kv: [], sql: [] };
  let next = 0;
  const times: number[] = [];
  return withRebooting("kill9-scribe.dev", chain, async (n) => {
    const at = { port: n.port };
    assertEquals((await cli("build", `${FIXTURES}scribe`)).code, 0);
    assertEquals((await cli("start-package", `${FIXTURES}scribe`, "-p", String(n.port))).code, 0);
    for (let round = 0; round < rounds; round++) {
      const t0 = performance.now();
      // Every store writes until the node dies under it.
      let alive = true;
      const stream = async (store: Store) => {
        while (alive) {
          const i = next++;
          sent[store].push(i);
          const r = await inject(at, SCRIBE, { Write: { store, i } }, { timeout: 30 }).catch(() => null);
          if (r?.status === 200 && JSON.parse(r.body!).Wrote === i) acked[store].add(i);
          else if (r?.status === 200) throw new Error(`write ${i} to ${store} failed: ${r.body}`);
          else return;
        }
      };
      const streams = STORES.flatMap((s) => Array.from({ length: IN_FLIGHT[s] }, () => stream(s)));
      const before = STORES.map((s) => acked[s].size);
      // The kill comes at a random moment once every store has taken a write this round (all are mid-stream).
      await waitFor("a write to every store", () => STORES.every((s, k) => acked[s].size > before[k]), 30_000);
      const killAt = rng.between(0, 1000);
      await sleep(killAt);
      await n.crash();
      alive = false;
      await Promise.all(streams);
      const written = STORES.map((s, k) => `${s} ${acked[s].size - before[k]}`).join(", ");

      await n.boot();
      for (const store of STORES) {
        const r = await askRunning<Report>(n.port, SCRIBE, { Check: { store, indices: sent[store] } });
        const where = `round ${round} (seed ${rng.seed}), ${store}`;
        assertEquals(r.thrown, undefined, `${where}: the store did not open: ${r.thrown}`);
        const present = new Set(r.present);
        const lost = [...acked[store]].filter((i) => !present.has(i));
        assertEquals(lost, [], `${where}: acknowledged writes lost`);
        assertEquals(r.bad, [], `${where}: records torn or wrong`);
        assertEquals(r.strays, [], `${where}: files beside the records that nobody wrote`);
        assertEquals(r.tornTail, 0, `${where}: a torn line at the end of the log`);
      }
      console.log(
        `round ${round}: killed ${Math.round(killAt)} ms into the streams, acknowledged ${written}: all back`,
      );
      times.push(performance.now() - t0);
    }
    return times;
  });
}
