/**
 * The HNS indexer against a real anvil: identities from Mint and Note logs, a restart that continues from its last
 * block, a reorganization rolled back, malformed logs and wrong-length notes ignored, notes that wait for their
 * parent, an RPC that answers garbage or stops answering.
 */
import { assert, assertEquals } from "./assert.ts";
import { HnsIndexer } from "../chain/indexer.ts";
import { ChainClient } from "../chain/client.ts";
import { HYPERMAP, labelhash, leaf, namehash } from "../chain/hypermap.ts";
import type { HnsUpdate } from "../runtime/api/net.ts";
import { registerTestName, startChain, type TestChain, waitFor } from "../runtime/testing.ts";
import { toHex } from "../runtime/bytes.ts";
import { type Abi, encodeAbiParameters, type Hex, stringToHex, toHex as hexOf } from "viem";
import rawLogger from "../contracts/out/RawLogger.json" with { type: "json" };
import { bootNet } from "./net_helpers.ts";
import { injectJson } from "../runtime/testing.ts";

interface Watch {
  idx: HnsIndexer;
  known: Map<string, HnsUpdate>;
  forgotten: string[];
  lines: string[];
  getLogsFrom: number[];
}

function watch(client: ChainClient, stateFile: string | null, pollMs = 50): Watch {
  const w: Watch = { known: new Map(), forgotten: [], lines: [], getLogsFrom: [] } as unknown as Watch;
  const request = client.request.bind(client);
  client.request = (method: string, params: unknown[] = []) => {
    if (method === "eth_getLogs") w.getLogsFrom.push(Number((params[0] as { fromBlock: string }).fromBlock));
    return request(method, params);
  };
  w.idx = new HnsIndexer({
    chain: client,
    stateFile,
    onUpdate: (u) => w.known.set(u.name, u),
    onForget: (n) => (w.known.delete(n), w.forgotten.push(n)),
    log: (_v, t) => w.lines.push(t),
    pollMs,
  });
  return w;
}

const key = (b: number) => new Uint8Array(32).fill(b);
const direct = (name: string, k: number, ports: { tcp?: number; ws?: number } = { tcp: 9000, ws: 9001 }) => ({
  name,
  publicKey: key(k),
  ips: ["127.0.0.1"],
  ports,
  routers: [],
});

Deno.test("hns-indexer: identities from the chain's logs; a restart continues from its last block", async () => {
  const chain = await startChain();
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-chain-idx-" });
  try {
    const c = chain.client;
    await registerTestName(c, direct("a.dev", 1));
    await registerTestName(c, direct("r.dev", 2, { tcp: 9100 }));
    await registerTestName(c, { name: "i.dev", publicKey: key(3), ips: [], ports: {}, routers: ["r.dev"] });
    await registerTestName(c, direct("x.os", 4, { ws: 9300 }));
    const w = watch(new ChainClient(chain.url), `${dir}/hns.json`);
    await w.idx.start();
    assertEquals(w.known.get("a.dev"), {
      name: "a.dev",
      public_key: toHex(key(1)),
      ips: ["127.0.0.1"],
      ports: { tcp: 9000, ws: 9001 },
      routers: [],
    });
    assertEquals(w.known.get("i.dev")?.routers, ["r.dev"]);
    assertEquals(w.known.get("i.dev")?.ips, []);
    assertEquals(w.known.get("x.os")?.ports, { ws: 9300 });
    assertEquals(w.idx.state.names[namehash("dev")], "dev");
    // A node moving from direct to indirect and back: the last notes win.
    await registerTestName(c, { name: "a.dev", publicKey: key(1), ips: [], ports: {}, routers: ["r.dev"] });
    await waitFor("a.dev indirect", () => w.known.get("a.dev")?.routers[0] === "r.dev");
    assertEquals(w.known.get("a.dev")?.ports, {});
    await registerTestName(c, direct("a.dev", 1, { ws: 9002 }));
    await waitFor("a.dev direct again", () => w.known.get("a.dev")?.ports.ws === 9002);
    assertEquals(w.known.get("a.dev")?.ports, { ws: 9002 }, "~tcp-port 0 means no TCP");
    await w.idx.stop();
    const stopped = w.idx.lastBlock;

    // Restarted on the same file: what it knew at once, then only the blocks after the last it read.
    await registerTestName(c, direct("b.dev", 5));
    const again = watch(new ChainClient(chain.url), `${dir}/hns.json`);
    await again.idx.start();
    assert(again.known.has("a.dev") && again.known.has("b.dev"), [...again.known.keys()].join());
    assertEquals(Math.min(...again.getLogsFrom), stopped + 1);
    await again.idx.stop();
  } finally {
    await chain.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hns-indexer: new blocks are announced, not polled for: an idle chain is asked little, a new block at once", async () => {
  const chain = await startChain();
  try {
    const c = chain.client;
    // Polling every minute (so every ten once announced): only the announcement can bring the next block in time.
    const w = watch(new ChainClient(chain.url), null, 60_000);
    let asked = 0;
    const request = w.idx.opts.chain.request.bind(w.idx.opts.chain);
    w.idx.opts.chain.request = (method: string, params: unknown[] = []) => {
      if (method === "eth_blockNumber") asked++;
      return request(method, params);
    };
    await w.idx.start();
    await registerTestName(c, direct("late.dev", 7));
    await waitFor("the announced block to be indexed", () => w.known.has("late.dev"));
    const before = asked;
    // A busy machine only delays timers: an idle second can ask less, never more.
    await new Promise((r) => setTimeout(r, 1000));
    assertEquals(asked, before, "an idle chain is not polled");
    await w.idx.stop();

    // An http endpoint elsewhere than this machine cannot be subscribed to: it is polled, as before.
    assertEquals(await new ChainClient("http://192.0.2.1:8545").watchHeads(() => {}, () => {}), null);
  } finally {
    await chain.stop();
  }
});

Deno.test("hns-indexer: a reorganization rolls back what the dropped blocks said", async () => {
  const chain = await startChain();
  try {
    const c = chain.client;
    await registerTestName(c, direct("keep.dev", 1));
    const w = watch(new ChainClient(chain.url), null);
    await w.idx.start();
    const snapshot = await c.request("evm_snapshot");
    await registerTestName(c, direct("gone.dev", 2));
    await registerTestName(c, direct("keep.dev", 3));
    await waitFor(
      "the blocks to be indexed",
      () => w.known.has("gone.dev") && w.known.get("keep.dev")?.public_key === toHex(key(3)),
    );
    // The chain drops those blocks, and other ones take their heights.
    assertEquals(await c.request("evm_revert", [snapshot]), true);
    await registerTestName(c, direct("other.dev", 4));
    await registerTestName(c, direct("other2.dev", 5));
    await waitFor("the reorganization to be followed", () => w.known.has("other2.dev"));
    assertEquals(w.known.has("gone.dev"), false);
    assert(w.forgotten.includes("gone.dev"), w.forgotten.join());
    assertEquals(w.known.get("keep.dev")?.public_key, toHex(key(1)), "keep.dev's key from before the dropped blocks");
    assert(w.lines.some((l) => l.includes("reorganized")), w.lines.join("\n"));
    assertEquals(w.idx.state.names[namehash("gone.dev")], undefined);
    await w.idx.stop();
  } finally {
    await chain.stop();
  }
});

/** A chain whose "Hypermap" emits whatever logs the test asks for (a buggy or hostile contract). */
async function rawChain(): Promise<{ chain: TestChain; emit: (topics: Hex[], data: Hex) => Promise<void> }> {
  const chain = await startChain();
  await chain.client.request("anvil_setCode", [HYPERMAP, rawLogger.deployedBytecode]);
  const emit = async (topics: Hex[], data: Hex) => {
    await chain.client.send(HYPERMAP, rawLogger.abi as Abi, "emitLog", [topics, data]);
  };
  return { chain, emit };
}

const MINT = "0xb59dae5eda69178326b6517bb1aa33e208bf2ac347e30d3a5daf0ecb6249f7b1";
const NOTE = "0xe40d9f1ec78dfc3c5a94c3edae28058ba092a8f65ce8a199731840a3d20f82f4";
const mintLog = (parent: string, label: string): [Hex[], Hex] => [
  [MINT, namehash(parent), leaf(namehash(parent), label), labelhash(label)],
  encodeAbiParameters([{ type: "bytes" }], [stringToHex(label)]),
];
const noteLog = (name: string, label: string, data: Uint8Array): [Hex[], Hex] => [
  [NOTE, namehash(name), leaf(namehash(name), label), labelhash(label)],
  encodeAbiParameters([{ type: "bytes" }, { type: "bytes" }], [stringToHex(label), hexOf(data)]),
];

Deno.test("hns-indexer: malformed logs and wrong-length notes are ignored; notes wait for their parent", async () => {
  const { chain, emit } = await rawChain();
  try {
    const w = watch(new ChainClient(chain.url), null);
    await w.idx.start();
    // w.dev's notes come before its Mint: they wait.
    await emit(...noteLog("w.dev", "~net-key", key(7)));
    await emit(...noteLog("w.dev", "~ip", new Uint8Array([127, 0, 0, 1])));
    await emit(...noteLog("w.dev", "~tcp-port", new Uint8Array([0x23, 0x28])));
    await w.idx.round();
    assertEquals(w.known.has("w.dev"), false);
    assertEquals(w.idx.state.s.waiting.length, 3);
    await emit(...mintLog("dev", "w"));
    await waitFor("w.dev once its Mint came", () => w.known.has("w.dev"));
    assertEquals(w.known.get("w.dev")?.ports, { tcp: 9000 });
    assertEquals(w.idx.state.s.waiting.length, 0);

    // Garbage at the Hypermap address: wrong topic counts, data that is no ABI, a label that is not its hash,
    // a bad name, and notes of the wrong length.
    const [mt, md] = mintLog("dev", "z");
    await emit(mt.slice(0, 3), md);
    await emit(mt, "0x1234");
    await emit([mt[0], mt[1], mt[2], labelhash("y")], md);
    await emit(...mintLog("dev", "BAD"));
    await emit(...noteLog("w.dev", "~net-key", new Uint8Array(31)));
    await emit(...noteLog("w.dev", "~ip", new Uint8Array(5)));
    await emit(...noteLog("w.dev", "~tcp-port", new Uint8Array(3)));
    await emit(...noteLog("w.dev", "~routers", new Uint8Array(33)));
    const [nt, nd] = noteLog("w.dev", "~ws-port", new Uint8Array([0x23, 0x29]));
    await emit([nt[0], nt[1], namehash("elsewhere"), nt[3]], nd); // its hash is not leaf(parent, label)
    // ...and then a good note, which still counts.
    await emit(...noteLog("w.dev", "~ws-port", new Uint8Array([0x23, 0x2a])));
    await waitFor("the good note after the garbage", () => w.known.get("w.dev")?.ports.ws === 9002);
    const w2 = w.known.get("w.dev")!;
    assertEquals([w2.public_key, w2.ips, w2.ports], [toHex(key(7)), ["127.0.0.1"], { tcp: 9000, ws: 9002 }]);
    assertEquals(w.idx.malformed, 3);
    for (
      const why of [
        "4 topics",
        "not topic 3",
        "not a valid name",
        "32 bytes, not 31",
        "4 or 16 bytes, not 5",
        "2 bytes, not 3",
        "multiple of 32",
        "not leaf",
      ]
    ) {
      assert(w.lines.some((l) => l.includes(why)), `no "${why}" in:\n${w.lines.join("\n")}`);
    }
    assertEquals(w.idx.state.names[namehash("z.dev")], undefined);
    await w.idx.stop();
  } finally {
    await chain.stop();
  }
});

Deno.test("hns-indexer: an RPC answering garbage or errors leaves what was indexed, and is said once", async () => {
  const chain = await startChain();
  await registerTestName(chain.client, direct("a.dev", 1));
  let mode: "proxy" | "garbage" | "shape" | "500" = "proxy";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    if (mode === "garbage") {
      return new Response("\x00\xffnot json at all {{{", { headers: { "content-type": "application/json" } });
    }
    if (mode === "500") return new Response("down", { status: 500 });
    if (mode === "shape") {
      const id = JSON.parse(body).id;
      return Response.json({ jsonrpc: "2.0", id, result: { weird: [1, 2, 3] } });
    }
    return fetch(chain.url, { method: "POST", headers: { "content-type": "application/json" }, body });
  });
  try {
    const w = watch(new ChainClient(`http://127.0.0.1:${server.addr.port}`, 2000), null, 60_000);
    await w.idx.start();
    assert(w.known.has("a.dev"));
    const before = w.idx.lastBlock;
    for (const m of ["garbage", "shape", "500"] as const) {
      mode = m;
      await w.idx.round();
      assertEquals(w.idx.answering, false, m);
    }
    assertEquals(w.lines.filter((l) => l.includes("is not answering")).length, 1, w.lines.join("\n"));
    assert(w.lines.some((l) => l.includes("running on the 1 identities indexed up to block")), w.lines.join("\n"));
    assert(w.lines.some((l) => l.includes('answered {"weird"')), w.lines.join("\n"));
    assertEquals([w.known.has("a.dev"), w.idx.lastBlock, w.forgotten], [true, before, []]);
    mode = "proxy";
    await registerTestName(chain.client, direct("b.dev", 2));
    await w.idx.round();
    assert(w.idx.answering && w.known.has("b.dev"));
    assert(w.lines.some((l) => l.includes("answers again")), w.lines.join("\n"));
    await w.idx.stop();
  } finally {
    await server.shutdown();
    await chain.stop();
  }
});

Deno.test("nodes: a chain that stops answering leaves nodes running on what they indexed, and they say so", async () => {
  const chain = await startChain();
  const net = await bootNet({ "a.dev": { rpc: chain.url }, "b.dev": { rpc: chain.url } }, { chain });
  try {
    await chain.anvil.stop();
    const a = net.nodes["a.dev"];
    await waitFor("a.dev to say the chain is gone", () => a.lines.some((l) => l.includes("is not answering")));
    const r = await injectJson<{ ok?: unknown }>(a, "netuser:netuser:test.os", {
      Call: { target: "b.dev@netuser:netuser:test.os" },
    });
    assert(r.ok, JSON.stringify(r));
  } finally {
    await net.close();
    await chain.stop();
  }
});
