/**
 * The wire's ChaCha20-Poly1305 through libcrypto (modules/net/aead_libcrypto.ts) against @noble's: the same
 * bytes for every piece length, forgeries refused, and a real TCP link whose two ends use one each.
 */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { loadLibcrypto } from "../modules/net/aead_libcrypto.ts";
import { AeadError, nativeAead, pureAead } from "../modules/net/aead.ts";
import { CipherState } from "../modules/net/noise.ts";
import { TcpFrames } from "../modules/net/frames.ts";
import { Link } from "../modules/net/handshake.ts";

/** Where the tests run (deno.json's test task grants --allow-ffi), the node's libcrypto must load. */
const HAS_LIBCRYPTO = ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/aarch64-linux-gnu/libcrypto.so.3"]
  .some((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });

const random = (n: number) => {
  const b = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(b.subarray(o, Math.min(n, o + 65536)));
  return b;
};

Deno.test({
  name: "libcrypto: seals every piece length the wire uses as @noble does, and opens it back",
  ignore: !HAS_LIBCRYPTO,
  fn() {
    const lib = loadLibcrypto({ always: true });
    assert(lib, "libcrypto did not load: is --allow-ffi granted?");
    for (const len of [0, 1, 15, 16, 17, 63, 64, 65, 1000, 4096, 65519]) {
      for (const n of [0n, 1n, 0xffffn, (1n << 63n) + 5n]) {
        const key = random(32), pt = random(len);
        const sealer = lib.bind(key, true), opener = lib.bind(key, false);
        const out = new Uint8Array(len + 16);
        sealer.seal(n, pt, out);
        assertEquals(out, pureAead.encrypt(key, n, new Uint8Array(), pt), `length ${len}, nonce ${n}`);
        const back = new Uint8Array(len);
        opener.open(n, out, back);
        assertEquals(back, pt);
        sealer.free();
        opener.free();
      }
    }
  },
});

Deno.test({
  name: "libcrypto: a forged piece (a flipped bit, a wrong nonce, a cut tag) is refused and leaves no plaintext",
  ignore: !HAS_LIBCRYPTO,
  fn() {
    const lib = loadLibcrypto({ always: true })!;
    const key = random(32), pt = random(65519);
    const sealed = pureAead.encrypt(key, 7n, new Uint8Array(), pt);
    const opener = lib.bind(key, false);
    const out = new Uint8Array(pt.length);
    for (const at of [0, 30000, pt.length - 1, pt.length, sealed.length - 1]) {
      const forged = sealed.slice();
      forged[at] ^= 0x10;
      out.fill(0xee);
      assertThrows(() => opener.open(7n, forged, out), AeadError);
      assert(out.every((b) => b === 0 || b === 0xee), `plaintext left in the buffer after a forgery at ${at}`);
    }
    assertThrows(() => opener.open(8n, sealed, out), AeadError);
    assertThrows(() => opener.open(7n, sealed.subarray(0, 10), out), AeadError);
    opener.open(7n, sealed, out);
    assertEquals(out, pt);
  },
});

Deno.test("link: one end sealing through libcrypto, the other through @noble, carry 10 MB both ways over TCP", async () => {
  if (HAS_LIBCRYPTO) assert(loadLibcrypto({ always: true }), "libcrypto did not load: is --allow-ffi granted?");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const dialed = await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port });
  const [k1, k2] = [random(32), random(32)];
  // nativeAead's states go through libcrypto when it loads (as a node's links do), @noble's never.
  const ours = new Link(
    new TcpFrames(dialed),
    "b",
    new CipherState(k1, nativeAead),
    new CipherState(k2, nativeAead),
    true,
  );
  const theirs = new Link(
    new TcpFrames(await accepted),
    "a",
    new CipherState(k2, pureAead),
    new CipherState(k1, pureAead),
    false,
  );
  try {
    const big = random(10_000_000), small = random(100);
    // Several messages queued at once: their pieces and nonces must stay in order.
    const sends = [ours.send([small, big]), ours.send(small), ours.send([big.subarray(0, 65519), small])];
    assertEquals(await theirs.recv(), joined(small, big));
    assertEquals(await theirs.recv(), small);
    assertEquals(await theirs.recv(), joined(big.subarray(0, 65519), small));
    await Promise.all(sends);
    const back = theirs.send(big);
    assertEquals(await ours.recv(), big);
    await back;
  } finally {
    ours.close();
    theirs.close();
    listener.close();
  }
});

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

Deno.test({
  name: "libcrypto: a node's links use it by default, and HYPERDENO_NO_LIBCRYPTO=1 keeps them on node:crypto",
  ignore: !HAS_LIBCRYPTO,
  fn() {
    const before = Deno.env.get("HYPERDENO_NO_LIBCRYPTO");
    try {
      Deno.env.delete("HYPERDENO_NO_LIBCRYPTO");
      assert(loadLibcrypto(), "libcrypto is the default where it loads");
      Deno.env.set("HYPERDENO_NO_LIBCRYPTO", "1");
      assertEquals(loadLibcrypto(), null);
      assert(loadLibcrypto({ always: true }), "the tests of this file load it regardless");
    } finally {
      if (before === undefined) Deno.env.delete("HYPERDENO_NO_LIBCRYPTO");
      else Deno.env.set("HYPERDENO_NO_LIBCRYPTO", before);
    }
  },
});
