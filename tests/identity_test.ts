/** Node keys and the fake chain's rules: nobody takes or overwrites a name they do not own. */
import { assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { loadOrCreateKeys, sign } from "../runtime/keys.ts";
import { toHex } from "../runtime/bytes.ts";
import { FakeChain } from "../fakechain/server.ts";
import { registrationMessage } from "../runtime/api/registration.ts";
import { ParseError } from "../runtime/types.ts";
import { WrongPassword } from "../runtime/errors.ts";
import { ed25519 } from "@noble/curves/ed25519.js";

Deno.test("keys: made at first boot, encrypted, and a wrong password is a clear error", async () => {
  const home = await Deno.makeTempDir();
  try {
    const k1 = await loadOrCreateKeys(home, "secret");
    const stored = await Deno.readTextFile(`${home}/keys.json`);
    assertEquals(stored.includes(toHex(k1.secretKey)), false, "the secret key is not stored in the clear");
    const k2 = await loadOrCreateKeys(home, "secret");
    assertEquals(k2.publicKey, k1.publicKey);
    await assertRejects(() => loadOrCreateKeys(home, "wrong"), WrongPassword, "wrong password");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

function keys() {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

function registration(k: ReturnType<typeof keys>, name: string, timestamp: number, signer = k) {
  const node = { name, public_key: toHex(k.publicKey), ips: ["127.0.0.1"], ports: { tcp: 9000 }, routers: [] };
  return { ...node, timestamp, signature: toHex(sign(signer, registrationMessage(node, timestamp))) };
}

Deno.test("fake chain: a name belongs to the key that claimed it", () => {
  const chain = new FakeChain();
  const alice = keys(), eve = keys();
  chain.register(registration(alice, "alice.dev", 1));
  assertThrows(() => chain.register(registration(eve, "alice.dev", 2)), ParseError, "belongs to another key");
  assertThrows(() => chain.register(registration(alice, "alice.dev", 1)), ParseError, "stale");
  assertThrows(() => chain.register(registration(eve, "bob.dev", 3, alice)), ParseError, "does not verify");
  assertThrows(
    () => chain.register({ ...registration(alice, "alice.dev", 5), ports: { tcp: 1 } }),
    ParseError,
    "does not verify",
  );
  // a key change signed by the current owner is accepted
  const rotated = registration(eve, "alice.dev", 6);
  const ownerSig = toHex(sign(alice, registrationMessage({ ...rotated, ports: { tcp: 9000 } }, 6)));
  chain.register({ ...rotated, owner_signature: ownerSig });
  assertEquals(chain.list().nodes[0].public_key, toHex(eve.publicKey));
  assertThrows(() => chain.register({ name: "x.dev", public_key: "zz" } as never), ParseError);
});

Deno.test("fake chain: HTTP refuses garbage and serves watchers", async () => {
  const chain = new FakeChain();
  const port = await chain.listen(0);
  try {
    const bad = await fetch(`http://127.0.0.1:${port}/register`, { method: "POST", body: "{nope" });
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
    const watch = await fetch(`http://127.0.0.1:${port}/watch?since=0`);
    const reader = watch.body!.getReader();
    const k = keys();
    const ok = await fetch(`http://127.0.0.1:${port}/register`, {
      method: "POST",
      body: JSON.stringify(registration(k, "w.dev", 1)),
    });
    assertEquals((await ok.json()).seq, 1);
    const { value } = await reader.read();
    const event = JSON.parse(new TextDecoder().decode(value).replace(/^data: /, ""));
    assertEquals([event.seq, event.node.name], [1, "w.dev"]);
    await reader.cancel();
  } finally {
    await chain.close();
  }
});
