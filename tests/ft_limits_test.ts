/**
 * file-transfer against peers that would use it up: one that asks for 2000
 * downloads and never answers an offer, and folders of 20,007 entries (a real
 * provider's, and a hostile provider's listing). Each with real nodes on a
 * test chain; the defences are in the README's Security section.
 */
import { assert, assertEquals } from "./assert.ts";
import { install, type TestNode, waitFor } from "../runtime/testing.ts";
import { injectJson } from "../runtime/testing.ts";
import { bootFt, download, filePath, FT, putFile, randomBytes, transfers, until } from "./ft_helpers.ts";
import { FIXTURES } from "./helpers.ts";
import { FOLDER_MAX_ENTRIES, PEER_ACTIVE, PEER_QUEUE } from "../packages/file-transfer/api/tuning.ts";

const FLOODER = "flooder:ft-flooder:test.os";
const FT_PACKAGE = "file-transfer:template.os";

function processesOf(node: TestNode, pkg: string): number {
  return node.kernel.processes.ids().filter((p) => p.endsWith(`:${pkg}`)).length;
}

interface Tally {
  ok: number;
  refused: Record<string, number>;
  errors: string[];
}

Deno.test("2000 Downloads from a peer that never answers: it is refused past its limits, no worker waits on it, and the owner's own download runs", async () => {
  const net = await bootFt(["fake.dev", "fake2.dev", "fake3.dev"]);
  try {
    const [owner, attacker, friend] = ["fake.dev", "fake2.dev", "fake3.dev"].map((n) => net.nodes[n]);
    await install(attacker, `${FIXTURES}ft_flooder`);
    await putFile(owner, "bait.bin", randomBytes(64 * 1024));
    const mine = randomBytes(1024 * 1024);
    await putFile(friend, "mine.bin", mine);
    const base = processesOf(owner, FT_PACKAGE);
    let most = base;
    const sampler = setInterval(() => most = Math.max(most, processesOf(owner, FT_PACKAGE)), 5);

    const flood = await injectJson<Tally>(attacker, FLOODER, {
      Flood: { node: "fake.dev", name: "bait.bin", count: 2000 },
    }, 300);
    // The owner's own download, while the attacker's requests hold whatever they hold.
    const id = await download(owner, "mine.bin", "fake3.dev");
    const t = await until(owner, id, ["done", "failed"], 60_000);
    clearInterval(sampler);

    assertEquals(t.status, "done", t.error ?? "");
    assertEquals(t.attempts, 1, `the owner's download started at once, never refused for want of a worker`);
    assertEquals(await Deno.readFile(filePath(owner, "mine.bin")), mine);
    // Accepted: as many as one node may have in flight and queued (a few more if offers expired while the flood was
    // still arriving on a slow machine); every other one refused, typed, saying why.
    const held = PEER_ACTIVE + PEER_QUEUE;
    assert(flood.ok >= held && flood.ok <= 2 * held, JSON.stringify(flood));
    assertEquals(flood.refused, { Busy: 2000 - flood.ok }, JSON.stringify(flood));
    assert(flood.errors.every((e) => /fake\.dev .*queued.*fake2\.dev.*try again later/.test(e)), flood.errors[0]);
    // No worker for an offer nobody answered: only the owner's own receiving worker ever joined the main process.
    assert(most <= base + 1, `file-transfer ran ${most} processes (${base} before the flood)`);
    // An offer nobody answers expires and frees its place: the queued requests are offered in turn.
    await waitFor("the queued requests to be offered once the first offers expire", async () => {
      const { offers } = await injectJson<{ offers: number }>(attacker, FLOODER, "Offers");
      return offers > PEER_ACTIVE;
    }, 90_000);
    assert(processesOf(owner, FT_PACKAGE) <= base, "no worker is left behind");
  } finally {
    await net.close();
  }
});

Deno.test("a folder of 20,007 entries is refused with the bound it passes, and list-files keeps answering", async () => {
  const net = await bootFt();
  try {
    const [owner, peer] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    const dir = filePath(peer, "many");
    await Deno.mkdir(dir, { recursive: true });
    for (let i = 0; i < 20_007; i++) await Deno.writeFile(`${dir}/f${i}.txt`, new Uint8Array([i & 255]));
    await putFile(owner, "kept.txt", new TextEncoder().encode("mine"));

    const id = await download(owner, "many", "fake2.dev");
    const t = await until(owner, id, ["done", "failed"], 60_000);
    assertEquals(t.status, "failed", `the folder download ended ${t.status}`);
    assert(t.error!.includes(`more than ${FOLDER_MAX_ENTRIES} entries`), t.error!);
    assert((await transfers(owner)).length <= 1, "no download was queued for the folder's files");
    const listed = await injectJson<{ ListFiles: { name: string }[] }>(owner, FT, "ListFiles");
    assertEquals(listed.ListFiles.map((f) => f.name), ["kept.txt"]);
  } finally {
    await net.close();
  }
});

Deno.test("a provider's listing of 20,007 entries for one folder is refused by the receiver, which queues none of it", async () => {
  const net = await bootFt(["fake.dev"]);
  try {
    const { bootNode } = await import("../runtime/testing.ts");
    const liar = await bootNode({ name: "fake2.dev", network: { chainPort: net.chain.port, pollMs: 100 } });
    net.nodes["fake2.dev"] = liar;
    await install(liar, `${FIXTURES}ft_liar`);
    const owner = net.nodes["fake.dev"];
    await waitFor("the nodes to know each other", () => owner.net!.hns.has("fake2.dev"));
    const id = await download(owner, "huge-folder", "fake2.dev");
    const t = await until(owner, id, ["done", "failed"], 60_000);
    assertEquals(t.status, "failed", `the folder download ended ${t.status}`);
    assert(t.error!.includes(`more than ${FOLDER_MAX_ENTRIES} entries`), t.error!);
    assert((await transfers(owner)).length <= 1, "no download was queued for the listed files");
    assertEquals((await injectJson<{ ListFiles: unknown[] }>(owner, FT, "ListFiles")).ListFiles, []);
  } finally {
    await net.close();
  }
});
