/** runtime/curves.ts (node:crypto's X25519 and Ed25519 from raw keys) against @noble's. */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { ed25519Sign, ed25519Verify, x25519PublicKey, x25519Shared } from "../runtime/curves.ts";

Deno.test("curves: X25519 public keys and shared secrets are @noble's, for random keys", () => {
  for (let i = 0; i < 50; i++) {
    const a = x25519.utils.randomSecretKey(), b = x25519.utils.randomSecretKey();
    assertEquals(x25519PublicKey(a), x25519.getPublicKey(a));
    assertEquals(x25519Shared(a, x25519.getPublicKey(b)), x25519.getSharedSecret(a, x25519.getPublicKey(b)));
  }
});

Deno.test("curves: a low-order or short X25519 public key is refused", () => {
  const a = x25519.utils.randomSecretKey();
  assertThrows(() => x25519Shared(a, new Uint8Array(32)));
  assertThrows(() => x25519Shared(a, Uint8Array.of(1, ...new Uint8Array(31))));
  assertThrows(() => x25519Shared(a, new Uint8Array(31)));
});

Deno.test("curves: Ed25519 signs as @noble does; a changed message, signature or key does not verify", () => {
  for (let i = 0; i < 20; i++) {
    const sk = ed25519.utils.randomSecretKey(), pk = ed25519.getPublicKey(sk);
    const msg = crypto.getRandomValues(new Uint8Array(i * 7));
    const sig = ed25519Sign(sk, msg);
    assertEquals(sig, ed25519.sign(msg, sk));
    assert(ed25519Verify(pk, msg, sig));
    assert(ed25519Verify(pk, msg, ed25519.sign(msg, sk)));
    const other = msg.length ? msg.map((b, j) => j === 0 ? b ^ 1 : b) : Uint8Array.of(1);
    assert(!ed25519Verify(pk, other, sig), "another message");
    assert(!ed25519Verify(pk, msg, sig.map((b, j) => j === 40 ? b ^ 1 : b)), "a changed signature");
    assert(!ed25519Verify(ed25519.getPublicKey(ed25519.utils.randomSecretKey()), msg, sig), "another key");
    assert(!ed25519Verify(pk, msg, sig.subarray(0, 63)), "a short signature");
    assert(!ed25519Verify(pk.subarray(0, 31), msg, sig), "a short key");
  }
});
