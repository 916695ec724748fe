/**
 * Dev-chain names belong to their nodes: a fake node's name is owned by its own account, so account #0 (unlocked
 * for anyone who reaches the chain's RPC) cannot rewrite its notes; a second boot of a running node's name is
 * refused and leaves nothing behind; a --persist home boots again as the owner; two nodes that find no chain agree
 * on which one started it; fake-net's refusals name its own flags; a connection cut on our side is told in plain words.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { freePort, NodeProcess, RUN_FLAGS } from "./cli_helpers.ts";
import { bootNet } from "./net_helpers.ts";
import {
  bootNode,
  injectJson,
  registerOnChain,
  removeHome,
  startChain,
  type TestNode,
  waitFor,
} from "../runtime/testing.ts";
import { DEV_ACCOUNT, getEntry } from "../chain/deploy.ts";
import { accountAbi, HYPERMAP, hypermapAbi, namehash } from "../chain/hypermap.ts";
import { addressOf, devOwnerKey } from "../chain/dev_owner.ts";
import { ensureLocalChain } from "../chain/network.ts";
import { PortInUse, WrongPassword } from "../runtime/errors.ts";
import { exists } from "../runtime/fs.ts";
import { toHex } from "../runtime/bytes.ts";
import { encodeFunctionData, type Hex, stringToHex } from "viem";

const NU = "netuser:netuser:test.os";
type Call = { ok?: unknown; err?: string };

const ownerOf = (n: TestNode) => addressOf(devOwnerKey(n.net!.opts.keys.secretKey));

/** Sends a transaction as `from` with eth_sendTransaction (the chain signs for it): whether it was mined, reverted or refused. */
async function sendUnsigned(url: string, tx: Record<string, string>): Promise<"mined" | "reverted" | "refused"> {
  const rpc = async (method: string, params: unknown[]) =>
    await (await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    })).json();
  const sent = await rpc("eth_sendTransaction", [{ gas: "0x100000", ...tx }]);
  if (!sent.result) return "refused";
  for (let i = 0; i < 200; i++) {
    const r = (await rpc("eth_getTransactionReceipt", [sent.result])).result;
    if (r) return r.status === "0x1" ? "mined" : "reverted";
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error("no receipt");
}

Deno.test("dev chain: account #0, unlocked for anyone on the chain's RPC, cannot rewrite a running node's ~net-key", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  const a = net.nodes["a.dev"], b = net.nodes["b.dev"];
  try {
    const real = toHex(b.net!.opts.keys.publicKey);
    const [tba, owner] = await getEntry(net.chain.client, namehash("b.dev"));
    // The attack from the issue: eth_sendTransaction as account #0 (no key needed), through b.dev's account,
    // writing the attacker's key as b.dev's ~net-key.
    const note = encodeFunctionData({
      abi: hypermapAbi,
      functionName: "note",
      args: [stringToHex("~net-key"), `0x${"66".repeat(32)}`],
    });
    const data = encodeFunctionData({ abi: accountAbi, functionName: "execute", args: [HYPERMAP, 0n, note, 0] });
    const outcome = await sendUnsigned(net.chain.url, { from: DEV_ACCOUNT, to: tba, data });
    assert(outcome !== "mined", "account #0 wrote b.dev's notes");
    assertEquals((await getEntry(net.chain.client, namehash("~net-key.b.dev")))[2], `0x${real}`);
    assertEquals(owner, ownerOf(b), "b.dev is owned by b's own account");
    // a has read the chain past the attempt (it knows a name registered after it) and still holds b's real key.
    await registerOnChain(net.chain, "after.dev", new Uint8Array(32).fill(1));
    await waitFor("a to read past the attack", () => a.net!.hns.has("after.dev"));
    assertEquals(a.net!.hns.get("b.dev")!.public_key, real);
    const r = await injectJson<Call>(a, NU, { Call: { target: `b.dev@${NU}` } });
    assert(r.ok, JSON.stringify(r));
  } finally {
    await net.close();
  }
});

Deno.test("dev chain: a second boot of a running node's name is refused in one line, leaving no home and the name as it was", async () => {
  const chain = await startChain();
  const first = await bootNode({ name: "held.dev", network: { chainPort: chain.port, pollMs: 100 } });
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-held-" });
  const home = `${dir}/home`;
  try {
    const second = new NodeProcess(["-p", String(freePort()), "-o", home, "-f", "held.dev", "-c", String(chain.port)]);
    await second.waitFor(/node ready|held\.dev is held/, 60_000).catch(() => {});
    if (/node ready/.test(second.output)) second.kill("SIGINT");
    const status = await second.exited();
    assert(!/node ready/.test(second.output), `a second held.dev booted:\n${second.output}`);
    assertEquals(status.success, false);
    assertMatch(
      second.output,
      /held\.dev is held by a running node \(key 0x[0-9a-f]{16}…, tcp port \d+\): stop it, boot it again with --persist on its home, or pick another name with -f/,
    );
    assert(!second.output.includes("    at "), `one line, no stack trace:\n${second.output}`);
    assert(!exists(home), "the refused boot left no home behind");
    const [, owner] = await getEntry(chain.client, namehash("held.dev"));
    assertEquals(owner, ownerOf(first));
    const [, , key] = await getEntry(chain.client, namehash("~net-key.held.dev"));
    assertEquals(key, `0x${toHex(first.net!.opts.keys.publicKey)}`);
  } finally {
    await first.shutdown();
    await removeHome(first);
    await chain.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dev chain: a --persist home boots again as its name's owner; a new home takes the name of a stopped node", async () => {
  const chain = await startChain();
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-persist-" });
  const network = { chainPort: chain.port, pollMs: 100 };
  let n: TestNode | null = await bootNode({ home, name: "again.dev", network });
  let other: TestNode | null = null;
  try {
    const owner = ownerOf(n);
    await n.shutdown();
    n = await bootNode({ home, name: "again.dev", network });
    assertEquals(ownerOf(n), owner, "the home kept its key, hence its account");
    assert(n.lines.some((l) => l.includes("updated the notes of again.dev")), n.lines.join("\n"));
    assert(!n.lines.some((l) => l.includes("was held by")), "no takeover");
    assertEquals((await getEntry(chain.client, namehash("again.dev")))[1], owner);
    await n.shutdown();
    n = null;
    other = await bootNode({ name: "again.dev", network });
    assertEquals((await getEntry(chain.client, namehash("again.dev")))[1], ownerOf(other));
    assert(other.lines.some((l) => l.includes(`again.dev was held by ${owner}, whose node is not running`)));
  } finally {
    await n?.shutdown();
    await other?.shutdown();
    if (other) await removeHome(other);
    await chain.stop();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("dev chain: of two nodes that find no chain a moment apart, only the one whose anvil runs started it", async () => {
  const port = freePort();
  const [one, two] = await Promise.all([
    ensureLocalChain(port),
    new Promise((r) => setTimeout(r, 30)).then(() => ensureLocalChain(port)),
  ]);
  try {
    assertEquals([one, two].filter(Boolean).length, 1, "exactly one of them started anvil");
  } finally {
    await one?.stop();
    await two?.stop();
  }
});

Deno.test("boot: a boot refused for a busy port leaves no home and binds no name; a wrong password leaves the home as it was", async () => {
  const chain = await startChain();
  const network = { chainPort: chain.port };
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-refused-" });
  try {
    await assertRejects(
      () => bootNode({ home: `${dir}/busy`, name: "busy.dev", port: (busy.addr as Deno.NetAddr).port, network }),
      PortInUse,
    );
    assert(!exists(`${dir}/busy`), "no home left by the refused boot");
    assertEquals((await getEntry(chain.client, namehash("busy.dev")))[0], `0x${"0".repeat(40)}` as Hex);

    const n = await bootNode({ home: `${dir}/pw`, name: "pw.dev", password: "right", network });
    const owner = ownerOf(n);
    await n.shutdown();
    await assertRejects(
      () => bootNode({ home: `${dir}/pw`, name: "pw.dev", password: "wrong", network }),
      WrongPassword,
    );
    assert(exists(`${dir}/pw/keys.json`), "the node's home is still there");
    assertEquals((await getEntry(chain.client, namehash("pw.dev")))[1], owner);
  } finally {
    busy.close();
    await chain.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** fake-net expected to refuse: one that boots nodes instead is stopped after a minute (and the test fails). */
async function fakeNet(...args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [...RUN_FLAGS, "fake-net", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

Deno.test("fake-net: a busy port or a name held by a running node is refused naming fake-net's own flags", async () => {
  const chain = await startChain();
  const holder = await bootNode({ name: "fake2.dev", network: { chainPort: chain.port } });
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const held = await fakeNet("-c", String(chain.port), "-p", String(freePort()));
    assertEquals(held.code, 1, held.err);
    assertMatch(
      held.err,
      new RegExp(
        `^fake-net: fake2\\.dev is held by a running node \\(key 0x[0-9a-f]{16}…, tcp port \\d+\\) on the chain at port ${chain.port}: stop it, or run fake-net on a chain of its own with -c \\d+\\n$`,
      ),
    );
    const port = (busy.addr as Deno.NetAddr).port;
    const taken = await fakeNet("-c", String(chain.port), "-p", String(port));
    assertEquals(taken.code, 1, taken.err);
    assertMatch(
      taken.err,
      new RegExp(`port ${port} \\(for fake\\.dev\\) is in use: is another node running\\? Pick others with -p`),
    );
  } finally {
    busy.close();
    await holder.shutdown();
    await removeHome(holder);
    await chain.stop();
  }
});

Deno.test("net: a connection cut by its handshake deadline or by shutdown is told in plain words, not Deno's", async () => {
  const chain = await startChain();
  const n = await bootNode({ name: "cut.dev", verbosity: 2, network: { chainPort: chain.port } });
  const conns: Deno.TcpConn[] = [];
  try {
    conns.push(await Deno.connect({ hostname: "127.0.0.1", port: n.net!.tcpPort }));
    const cut = /net: refused a connection from tcp:127\.0\.0\.1:\d+: the connection was closed on this side/;
    await waitFor(
      "the handshake deadline to cut the silent connection",
      () => n.lines.some((l) => cut.test(l)),
      30_000,
    );
    // One more, mid-frame, for shutdown to cut.
    conns.push(await Deno.connect({ hostname: "127.0.0.1", port: n.net!.tcpPort }));
    await conns[1].write(new Uint8Array([0, 32]));
  } finally {
    await n.shutdown();
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await removeHome(n);
    await chain.stop();
  }
  const raw = n.lines.filter((l) => /operation canceled|Bad resource ID/i.test(l));
  assertEquals(raw, [], n.lines.join("\n"));
});
