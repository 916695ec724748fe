/**
 * Nodes on the chain as a user runs them: a restart with a new home (a new key) takes the name back from its
 * stopped node and peers use the new key; a home is locked while a node runs on it (in one process, and from the CLI, where a refused second
 * node must not delete the first one's home); a node reading the chain over ws://; eth:distro:sys for processes.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import {
  bootNode,
  injectJson,
  install,
  registerOnChain,
  registerTestName,
  removeHome,
  startChain,
  testOwner,
  waitFor,
} from "../runtime/testing.ts";
import { bootNet } from "./net_helpers.ts";
import { FIXTURES } from "./helpers.ts";
import { NodeProcess } from "./cli_helpers.ts";
import { freePort } from "./cli_helpers.ts";
import { HomeInUse, RegistrationError } from "../runtime/errors.ts";
import { HYPERMAP, hypermapAbi, namehash } from "../chain/hypermap.ts";
import { NOTE_TOPIC } from "../chain/indexer.ts";
import { decodeFunctionResult, encodeFunctionData } from "viem";
import { addressOf, devOwnerKey } from "../chain/dev_owner.ts";
import { getEntry } from "../chain/deploy.ts";

const NU = "netuser:netuser:test.os";
type Call = { ok?: unknown; err?: string };

Deno.test("chain: a node restarted with a new home takes its name back from the stopped one; peers use its new key", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  const a = net.nodes["a.dev"];
  let b2: Awaited<ReturnType<typeof bootNode>> | null = null;
  try {
    const first = await injectJson<Call>(a, NU, { Call: { target: `b.dev@${NU}` } });
    assert(first.ok, JSON.stringify(first));
    const oldKey = a.net!.hns.get("b.dev")!.public_key;
    await net.nodes["b.dev"].shutdown();
    await removeHome(net.nodes["b.dev"]);
    delete net.nodes["b.dev"];
    // The everyday loop: the same name, a new home, so a new key.
    b2 = await bootNode({ name: "b.dev", network: { chainPort: net.chain.port, pollMs: 100 } });
    await install(b2, `${FIXTURES}netuser`);
    await waitFor("a to hear b.dev's new key", () => a.net!.hns.get("b.dev")!.public_key !== oldKey);
    assertEquals(a.net!.hns.get("b.dev")!.public_key, b2.net!.hns.get("b.dev")!.public_key);
    assert(a.lines.some((l) => l.includes("b.dev changed its networking key")), a.lines.join("\n"));
    assert(
      b2.lines.some((l) => /b\.dev was held by 0x[0-9a-fA-F]{40}, whose node is not running/.test(l)),
      b2.lines.join("\n"),
    );
    for (const [from, to] of [[a, "b.dev"], [b2, "a.dev"]] as const) {
      const r = await injectJson<Call>(from, NU, { Call: { target: `${to}@${NU}` } });
      assert(r.ok, `${from.name} → ${to}: ${JSON.stringify(r)}`);
    }
  } finally {
    if (b2) {
      await b2.shutdown();
      await removeHome(b2);
    }
    await net.close();
  }
});

Deno.test("chain: a ~net-key written on chain is the key from then on; links under the old one close", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  const a = net.nodes["a.dev"], b = net.nodes["b.dev"];
  try {
    assert((await injectJson<Call>(a, NU, { Call: { target: `b.dev@${NU}` } })).ok);
    assert(a.net!.peers.current("b.dev"), "a link to b.dev is up");
    const real = b.net!.hns.get("b.dev")!;
    // b.dev's owner (its node's own account) writes another key (one b.dev's node does not hold), keeping its address.
    const owner = devOwnerKey(b.net!.opts.keys.secretKey);
    await registerOnChain(net.chain, "b.dev", new Uint8Array(32).fill(9), { ports: real.ports }, owner);
    await waitFor("a to take the new key", () => a.net!.hns.get("b.dev")!.public_key === "09".repeat(32));
    await waitFor("a's link made under the old key to close", () => !a.net!.peers.current("b.dev"));
    // a now expects the new key: the node at b.dev's address cannot prove it, so a refuses to talk.
    const refused = await injectJson<Call>(a, NU, { Call: { target: `b.dev@${NU}` } });
    assertEquals(refused.err, "Offline", JSON.stringify(refused));
    // The owner writes b.dev's real key back: a talks to it again.
    await registerOnChain(net.chain, "b.dev", b.net!.opts.keys.publicKey, { ports: real.ports }, owner);
    await waitFor("a to take the key back", () => a.net!.hns.get("b.dev")!.public_key === real.public_key);
    const r = await injectJson<Call>(a, NU, { Call: { target: `b.dev@${NU}` } });
    assert(r.ok, JSON.stringify(r));
  } finally {
    await net.close();
  }
});

Deno.test("chain: a home is locked while a node runs on it; the lock goes with the node", async () => {
  const chain = await startChain();
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-chain-lock-" });
  try {
    const one = await bootNode({ home, name: "lock.dev", network: { chainPort: chain.port } });
    await assertRejects(
      () => bootNode({ home, name: "lock.dev", network: { chainPort: chain.port } }),
      HomeInUse,
      "in use by another running node",
    );
    assert(Deno.statSync(`${home}/keys.json`).isFile, "the first node's home is intact");
    await one.shutdown();
    const again = await bootNode({ home, name: "lock.dev", network: { chainPort: chain.port } });
    await again.shutdown();
  } finally {
    await chain.stop();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("chain CLI: a second node on a running node's home is refused and leaves that home alone", async () => {
  const chain = await startChain();
  const home = `${await Deno.makeTempDir({ prefix: "hyperdeno-chain-cli-" })}/home`;
  const first = new NodeProcess(["-p", String(freePort()), "-o", home, "-f", "one.dev", "-c", String(chain.port)]);
  try {
    await first.waitFor(/one\.dev: node ready/, 60_000);
    const second = new NodeProcess(["-p", String(freePort()), "-o", home, "-f", "one.dev", "-c", String(chain.port)]);
    const status = await second.exited();
    assertEquals(status.success, false);
    assertMatch(
      second.output,
      /is in use by another running node \(pid \d+\): stop it first, or boot this one with another --home/,
    );
    assert(!second.output.includes("    at "), `one line, no stack trace:\n${second.output}`);
    assert(Deno.statSync(`${home}/keys.json`).isFile, "the first node's home is still there");
    await first.type("echo still here");
    await first.waitFor(/still here/);
  } finally {
    first.kill("SIGINT");
    await first.exited();
    await chain.stop();
    await Deno.remove(home, { recursive: true }).catch(() => {});
    await Deno.remove(home.replace(/\/home$/, ""), { recursive: true }).catch(() => {});
  }
});

Deno.test("chain: a node reads and writes the chain over ws:// (--rpc)", async () => {
  const chain = await startChain();
  const rpc = chain.url.replace("http://", "ws://");
  const net = await bootNet({ "w1.dev": { rpc }, "w2.dev": { rpc } }, { chain });
  try {
    assert(net.nodes["w1.dev"].net!.hns.has("w2.dev"), "w1 knows w2 through a ws indexer");
    const r = await injectJson<Call>(net.nodes["w1.dev"], NU, { Call: { target: `w2.dev@${NU}` } });
    assert(r.ok, JSON.stringify(r));
  } finally {
    await net.close();
    await chain.stop();
  }
});

Deno.test("chain: on a chain that is not a dev chain a node registers nothing, checks its key, and reads names", async () => {
  const { Anvil } = await import("../chain/anvil.ts");
  const { ChainClient } = await import("../chain/client.ts");
  const { deployHypermap } = await import("../chain/deploy.ts");
  const anvil = await Anvil.start(freePort(), ["--chain-id", "1"]);
  const client = new ChainClient(anvil.url);
  let n: Awaited<ReturnType<typeof bootNode>> | null = null;
  try {
    await deployHypermap(client);
    await registerTestName(client, {
      name: "there.dev",
      publicKey: new Uint8Array(32).fill(4),
      ips: ["127.0.0.1"],
      ports: { tcp: 1 },
      routers: [],
    });
    n = await bootNode({ name: "me.dev", network: { rpc: anvil.url, pollMs: 50 } });
    assert(
      n.lines.some((l) => l.includes("chain 1 does not hold this node's key for me.dev (it has none)")),
      n.lines.join("\n"),
    );
    await waitFor("me.dev to read there.dev", () => n!.net!.hns.has("there.dev"));
    assertEquals(n.net!.hns.has("me.dev"), false, "nothing registered for it");
    // Its owner registers it: the node then knows itself as everyone does.
    await registerTestName(client, {
      name: "me.dev",
      publicKey: n.net!.opts.keys.publicKey,
      ips: ["127.0.0.1"],
      ports: { tcp: n.net!.tcpPort },
      routers: [],
    });
    await waitFor("me.dev on chain", () => n!.net!.hns.get("me.dev")?.ports.tcp === n!.net!.tcpPort);
    // A name held by another account is never taken over off the dev chain (anvil would impersonate on any chain).
    const stranger = `0x${"77".repeat(32)}` as const;
    await assertRejects(
      () =>
        registerTestName(client, {
          name: "there.dev",
          publicKey: new Uint8Array(32).fill(5),
          ips: ["127.0.0.1"],
          ports: {},
          routers: [],
        }, stranger),
      RegistrationError,
      "not a dev chain",
    );
    assertEquals((await getEntry(client, namehash("there.dev")))[1], addressOf(testOwner("there.dev")));
  } finally {
    if (n) {
      await n.shutdown();
      await removeHome(n);
    }
    await client.close();
    await anvil.stop();
  }
});

Deno.test("eth:distro:sys: requests, errors, log subscriptions, and no capability no access", async () => {
  const chain = await startChain();
  const n = await bootNode({ name: "eth.dev", network: { chainPort: chain.port, pollMs: 50 } });
  const EU = "ethuser:ethuser:test.os";
  const eth = (action: unknown) => injectJson<Record<string, unknown> | string>(n, EU, { Eth: action }, 20);
  try {
    await install(n, `${FIXTURES}chain_ethuser`);
    const head = await eth({ Request: { chain_id: 31337, method: "eth_blockNumber", params: [] } });
    assertMatch(String((head as { Response: string }).Response), /^0x[0-9a-f]+$/);
    // An eth_call of Hypermap's get(namehash("eth.dev")): this node's own name, with its account.
    const data = encodeFunctionData({ abi: hypermapAbi, functionName: "get", args: [namehash("eth.dev")] });
    const got = await eth({
      Request: { chain_id: 31337, method: "eth_call", params: [{ to: HYPERMAP, data }, "latest"] },
    });
    const [tba] = decodeFunctionResult({
      abi: hypermapAbi,
      functionName: "get",
      data: (got as { Response: `0x${string}` }).Response,
    }) as [string];
    assert(/^0x[0-9a-fA-F]{40}$/.test(tba) && !/^0x0+$/.test(tba), tba);

    assertEquals(await eth({ Request: { chain_id: 31337, method: "anvil_setCode", params: [] } }), {
      Err: { InvalidMethod: "anvil_setCode" },
    });
    assertEquals(await eth({ Request: { chain_id: 8453, method: "eth_blockNumber", params: [] } }), {
      Err: "NoRpcForChain",
    });
    assertEquals(await eth({ Request: { chain_id: 31337, method: "eth_getBalance", params: "nope" } }), {
      Err: "InvalidParams",
    });
    assertEquals(await eth({ Nonsense: 1 }), { Err: "MalformedRequest" });
    const rpcErr = await eth({ Request: { chain_id: 31337, method: "eth_getBalance", params: ["not an address"] } });
    assert((rpcErr as { Err: { RpcError?: unknown } }).Err.RpcError, JSON.stringify(rpcErr));

    // Subscribe to Hypermap's Note logs: a node registering pushes them here.
    const params = { address: HYPERMAP, topics: [NOTE_TOPIC] };
    assertEquals(await eth({ SubscribeLogs: { sub_id: 7, chain_id: 31337, kind: "logs", params } }), "Ok");
    await registerTestName(chain.client, {
      name: "pushed.dev",
      publicKey: new Uint8Array(32).fill(1),
      ips: ["127.0.0.1"],
      ports: { tcp: 1 },
      routers: [],
    });
    let pushes: { Ok?: { id: number; result: { topics: string[] } } }[] = [];
    await waitFor("4 Note logs pushed", async () => (pushes = await injectJson(n, EU, { Pushes: null })).length >= 4);
    assertEquals(pushes.map((p) => [p.Ok?.id, p.Ok?.result.topics[1]]), Array(4).fill([7, namehash("pushed.dev")]));
    assertEquals(await eth({ UnsubscribeLogs: 7 }), "Ok");
    assertEquals(await eth({ UnsubscribeLogs: 7 }), { Err: { SubscriptionClosed: 7 } });
    await registerTestName(chain.client, {
      name: "quiet.dev",
      publicKey: new Uint8Array(32).fill(2),
      ips: ["127.0.0.1"],
      ports: { tcp: 1 },
      routers: [],
    });
    await new Promise((r) => setTimeout(r, 300));
    assertEquals((await injectJson<unknown[]>(n, EU, { Pushes: null })).length, 4, "nothing after unsubscribing");

    // A process without the capability is refused by the kernel.
    const refused = await injectJson<{ SendError?: string; answered?: unknown }>(
      n,
      "ethless:ethuser:test.os",
      "go",
      10,
    );
    assert(refused.SendError, JSON.stringify(refused));
  } finally {
    await n.shutdown();
    await removeHome(n);
    await chain.stop();
  }
});
