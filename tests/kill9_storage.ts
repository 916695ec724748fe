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

/** Files under `home` whose path says they are a write's temporary bytes. */
function temps(home: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch { /* gone meanwhile */ }
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (path.includes("vfs-tmp")) out.push(path.slice(home.length + 1));
    }
  };
  walk(home);
  return out;
}

/**
 * A 200 MiB whole-file Write killed half way: after the boot nothing of it is
 * left where the app cannot see it, so the folder it sees empty can be removed.
 */
export function interruptedWriteRound(chain: TestChain): Promise<void> {
  return withRebooting("kill9-tidy.dev", chain, async (n) => {
    assertEquals((await cli("build", `${FIXTURES}scribe`)).code, 0);
    assertEquals((await cli("start-package", `${FIXTURES}scribe`, "-p", String(n.port))).code, 0);
    let answered: unknown = null;
    const writing = inject({ port: n.port }, SCRIBE, { Big: { mib: 200 } }, { timeout: 120 }).then(
      (r) => answered = r,
      () => null,
    );
    // The write is under way once its temporary bytes are on disk (beside the file, or in the runtime's own folder).
    const where = [`${n.home}/vfs/scribe:test.os/big/pending`, `${n.home}/kernel/vfs-tmp`];
    await waitFor("the write to begin", () => {
      if (answered) throw new Error(`the write ended before it was seen: ${JSON.stringify(answered)}`);
      return where.some((d) => {
        try {
          return [...Deno.readDirSync(d)].some((e) => e.name.includes("vfs-tmp") || d.endsWith("vfs-tmp"));
        } catch {
          return false;
        }
      });
    }, 60_000);
    await n.crash();
    await writing;
    await n.boot();
    const tidy = await askRunning<{ listed: string[]; removed: true | string }>(n.port, SCRIBE, { Tidy: null });
    assertEquals(tidy, { listed: [], removed: true }, "the app removes the folder it sees empty");
    assertEquals(temps(n.home), [], "a killed write's bytes are gone after the boot");
  });
}
