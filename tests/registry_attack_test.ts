/**
 * Attacks on what an install granted and on the identity registry, made the
 * way an attacker would: a hostile package installed like any other, a second
 * key at the fake chain, a chain that restarts.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { injectJson, waitFor, withNode } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { bootNet } from "./net_helpers.ts";
import { FakeChain } from "../fakechain/server.ts";
import { registrationMessage } from "../runtime/api/registration.ts";
import { sign } from "../runtime/keys.ts";
import { toHex } from "../runtime/bytes.ts";
import { ParseError } from "../runtime/types.ts";
import { ed25519 } from "@noble/curves/ed25519.js";

const CLIMBER = `${FIXTURES}registry_climber`;

Deno.test("install: a package that rewrites its own pkg/scripts.json to root does not get root", () =>
  withNode([CLIMBER], async (n) => {
    const granted = n.lines.filter((l) => l.includes("install registry-climber:test.os: granted"));
    assert(granted.some((l) => l.includes("script peek:registry-climber:test.os: nothing")), granted.join("\n"));
    const r = await injectJson<{ own: { ok?: string }; record: { err?: unknown } }>(
      n,
      "climber:registry-climber:test.os",
      "Escalate",
      30,
    );
    assert(r.own.ok?.includes('"root":true'), `the package rewrote its own drive: ${JSON.stringify(r)}`);
    assert(r.record.err, `the runtime's record is not the package's to write: ${JSON.stringify(r)}`);
    n.terminal.command("peek:registry-climber:test.os");
    await waitFor("the script's answer", () => n.lines.some((l) => l.startsWith("peek: ")));
    assertEquals(n.lines.filter((l) => l.startsWith("peek: ROOT")), []);
    assert(n.lines.some((l) => l.startsWith("peek: refused")), n.lines.join("\n"));
  }));

function keys() {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

type Keys = ReturnType<typeof keys>;

function registration(k: Keys, name: string, timestamp: number, owner?: Keys) {
  const node = { name, public_key: toHex(k.publicKey), ips: ["127.0.0.1"], ports: { tcp: 9000 }, routers: [] };
  const msg = registrationMessage(node, timestamp);
  return {
    ...node,
    timestamp,
    signature: toHex(sign(k, msg)),
    ...(owner ? { owner_signature: toHex(sign(owner, msg)) } : {}),
  };
}

async function register(port: number, r: unknown): Promise<{ status: number; body: { seq?: number; error?: string } }> {
  const resp = await fetch(`http://127.0.0.1:${port}/register`, { method: "POST", body: JSON.stringify(r) });
  return { status: resp.status, body: await resp.json() };
}

Deno.test("fake chain: a restarted chain keeps every name; another key cannot take one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-registry-chain-" });
  const dataFile = `${dir}/chain.jsonl`;
  const alice = keys(), eve = keys(), carol = keys();
  try {
    const first = new FakeChain({ dataFile });
    const port = await first.listen(0);
    assertEquals((await register(port, registration(alice, "alice.dev", 1))).status, 200);
    await first.close();

    const second = new FakeChain({ dataFile });
    await second.listen(port);
    try {
      const taken = await register(port, registration(eve, "alice.dev", 2));
      assertEquals(taken.status, 400);
      assert(taken.body.error?.includes("belongs to another key"), JSON.stringify(taken));
      const listed = await (await fetch(`http://127.0.0.1:${port}/nodes/alice.dev`)).json();
      assertEquals(listed.public_key, toHex(alice.publicKey));
      // The owner still can: a later registration, and a key change it signs.
      assertEquals((await register(port, registration(alice, "alice.dev", 3))).status, 200);
      assertEquals((await register(port, registration(carol, "alice.dev", 4, alice))).status, 200);
    } finally {
      await second.close();
    }
    const third = new FakeChain({ dataFile });
    assertEquals(third.list().nodes.map((n) => n.public_key), [toHex(carol.publicKey)]);
    assertThrows(() => third.register(registration(eve, "alice.dev", 5)), ParseError, "belongs to another key");
    await third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fake chain: a damaged data file is a clear error, never an empty registry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-registry-chain-" });
  const dataFile = `${dir}/chain.jsonl`;
  const alice = keys(), eve = keys();
  try {
    const chain = new FakeChain({ dataFile });
    chain.register(registration(alice, "alice.dev", 1));
    await chain.close();
    const good = await Deno.readTextFile(dataFile);

    // An edited line (the name handed to another key) does not verify.
    await Deno.writeTextFile(dataFile, good.replace(toHex(alice.publicKey), toHex(eve.publicKey)));
    assertThrows(() => new FakeChain({ dataFile }), ParseError, "line 1 does not replay");
    await Deno.writeTextFile(dataFile, "{nope\n" + good);
    assertThrows(() => new FakeChain({ dataFile }), ParseError, "the registry is not reset");

    // A last line cut off mid-write was never acknowledged: dropped, with a notice, the rest kept.
    await Deno.writeTextFile(dataFile, good + good.slice(0, 20));
    const notices: string[] = [];
    const again = new FakeChain({ dataFile, log: (l) => notices.push(l) });
    assertEquals(again.list().nodes.map((n) => n.name), ["alice.dev"]);
    assert(notices.some((l) => l.includes("unfinished last registration")), notices.join("\n"));
    again.register(registration(alice, "alice.dev", 2));
    await again.close();
    const reread = new FakeChain({ dataFile });
    assertEquals(reread.list().nodes.length, 1);
    await reread.close();
    assertEquals((await Deno.readTextFile(dataFile)).split("\n").length, 3, "two whole lines");

    // Registering again and again does not grow the file without end: a start keeps the newest of each name.
    const busy = new FakeChain({ dataFile });
    for (let t = 3; t < 60; t++) busy.register(registration(alice, "alice.dev", t));
    await busy.close();
    const compacted = new FakeChain({ dataFile });
    assertEquals(compacted.list().nodes.map((n) => n.timestamp), [59]);
    await compacted.close();
    assertEquals((await Deno.readTextFile(dataFile)).split("\n").length, 2, "one whole line");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("net: a node refuses a known peer's new key unless the peer's old key signed the change", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  const b = net.nodes["b.dev"];
  const known = b.net!.hns.get("a.dev")!.public_key;
  const eve = keys(), z1 = keys(), z2 = keys();
  let evil: FakeChain | null = null;
  try {
    // The chain restarts with no memory of a.dev, and eve claims the name first.
    const port = net.chain.port;
    await net.chain.close();
    evil = new FakeChain();
    evil.register(registration(eve, "a.dev", Date.now()));
    evil.register(registration(z1, "z.dev", Date.now()));
    await evil.listen(port);
    await waitFor(
      "b to hear of the new a.dev key",
      () => b.lines.some((l) => l.includes("WARNING") && l.includes("a.dev")),
    );
    assertEquals(b.net!.hns.get("a.dev")!.public_key, known, "b keeps the key it knew");
    const call = await injectJson<{ ok?: unknown }>(b, "netuser:netuser:test.os", {
      Call: { target: "a.dev@netuser:netuser:test.os" },
    });
    assert(call.ok, `b still reaches the real a.dev: ${JSON.stringify(call)}`);

    // A change the owner signs is taken, and said so.
    await waitFor("b to know z.dev", () => b.net!.hns.has("z.dev"));
    evil.register(registration(z2, "z.dev", Date.now() + 1, z1));
    await waitFor(
      "b to take z.dev's signed new key",
      () => b.net!.hns.get("z.dev")!.public_key === toHex(z2.publicKey),
    );
    assert(b.lines.some((l) => l.includes("z.dev changed its key")), b.lines.join("\n"));
  } finally {
    for (const n of Object.values(net.nodes)) {
      await n.shutdown();
      await Deno.remove(n.opts.home, { recursive: true }).catch(() => {});
    }
    await evil?.close();
  }
});

Deno.test("net: a chain another node takes over still knows every name; a new key cannot claim one", async () => {
  const { freePort } = await import("./cli_helpers.ts");
  const { bootNode, removeHome } = await import("../runtime/testing.ts");
  const chainPort = freePort();
  const a = await bootNode({ name: "a.dev", network: { chainPort } });
  const b = await bootNode({ name: "b.dev", network: { chainPort } });
  try {
    await waitFor("b to know a", () => b.net!.hns.has("a.dev"));
    const aKey = b.net!.hns.get("a.dev")!.public_key;
    await a.shutdown();
    await waitFor("b to take the chain over", () => b.lines.some((l) => l.includes("went away")), 10_000);
    const eve = keys();
    const r = await register(chainPort, registration(eve, "a.dev", Date.now()));
    assertEquals(r.status, 400, JSON.stringify(r));
    assert(r.body.error?.includes("belongs to another key"), JSON.stringify(r));
    const listed = await (await fetch(`http://127.0.0.1:${chainPort}/nodes/a.dev`)).json();
    assertEquals(listed.public_key, aKey);
  } finally {
    await b.shutdown();
    await removeHome(a);
    await removeHome(b);
  }
});
