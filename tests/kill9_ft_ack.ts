/**
 * What Kino Files acknowledges is on disk before it says so: a node's process
 * group is SIGKILLed the moment the answer to a Download, an Allow or a
 * Cancel arrives, and after a boot on the same home the download is in its
 * table (still to finish, or cancelled) and the allow-list is as answered.
 * The provider is a name registered on the chain whose node never runs, so
 * the download waits and nothing else moves.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli } from "./cli_helpers.ts";
import { FT, FT_PKG } from "./ft_helpers.ts";
import { injectJson, registerOnChain, type TestChain } from "../runtime/testing.ts";
import type { AllowList, TransferView } from "../packages/file-transfer/api/types.ts";
import { askRunning, withRebooting } from "./kill9_helpers.ts";

export async function acknowledgedRounds(chain: TestChain, rounds: number): Promise<number[]> {
  const provider = "kill9-absent.dev";
  await registerOnChain(chain, provider, crypto.getRandomValues(new Uint8Array(32)));
  const times: number[] = [];
  await withRebooting("kill9-acker.dev", chain, async (n) => {
    const at = { port: n.port };
    assertEquals((await cli("build", FT_PKG)).code, 0);
    assertEquals((await cli("start-package", FT_PKG, "-p", String(n.port))).code, 0);
    const expected = { downloads: new Map<string, string>(), allowed: [] as string[] };
    for (let round = 0; round < rounds; round++) {
      const t0 = performance.now();
      // Each round one of the three, and the kill the moment its answer is here.
      const kind = ["download", "allow", "cancel"][round % 3];
      if (kind === "download") {
        const r = await injectJson<{ Download: { Ok?: null }; transfer: string }>(at, FT, {
          Download: { name: `file-${round}.bin`, target: provider, is_requestor: true },
        });
        assert(r.Download.Ok === null, JSON.stringify(r));
        expected.downloads.set(r.transfer, "waiting");
      } else if (kind === "allow") {
        const node = `friend-${round}.dev`;
        await injectJson(at, FT, { Allow: { node, action: "push" } });
        expected.allowed.push(node);
      } else {
        const [id] = [...expected.downloads].find(([, s]) => s === "waiting") ?? [];
        if (!id) continue;
        assertEquals(await injectJson(at, FT, { Cancel: { id } }), "Ok");
        expected.downloads.set(id, "cancelled");
      }
      await n.crash();
      await n.boot();
      const { Transfers: list } = await askRunning<{ Transfers: TransferView[] }>(n.port, FT, "Transfers");
      const table = new Map(list.map((t) => [t.id, t.status]));
      for (const [id, want] of expected.downloads) {
        const got = table.get(id);
        assert(got !== undefined, `round ${round} (${kind}): download ${id} was acknowledged, then lost`);
        if (want === "cancelled") assertEquals(got, "cancelled", `round ${round}: cancelled download ${id}`);
        else assert(got !== "cancelled" && got !== "done", `round ${round}: download ${id} is ${got}`);
      }
      const allow = await askRunning<{ AllowList: AllowList }>(n.port, FT, "AllowList");
      assertEquals(
        [...allow.AllowList.push].sort(),
        [...expected.allowed].sort(),
        `round ${round} (${kind}): the allow-list`,
      );
      times.push(performance.now() - t0);
    }
  });
  return times;
}
