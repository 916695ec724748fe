/** Noise against the published cacophony vectors, in both roles, with both AEADs. */
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { joinBytes } from "../runtime/bytes.ts";
import { CipherState, generateKeyPair, HandshakeState, NoiseError } from "../modules/net/noise.ts";
import { type Aead, AeadError, nativeAead, pureAead } from "../modules/net/aead.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const VECTORS = JSON.parse(
  await Deno.readTextFile(
    new URL("./vectors/noise-XX-25519-ChaChaPoly-BLAKE2s.cacophony.json", import.meta.url),
  ),
).vectors;

for (const [aeadName, aead] of [["node:crypto", nativeAead], ["noble", pureAead]] as [string, Aead][]) {
  Deno.test(`noise: XX vectors match byte for byte (${aeadName})`, () => {
    for (const v of VECTORS) {
      const init = new HandshakeState({
        initiator: true,
        prologue: hex(v.init_prologue),
        s: generateKeyPair(hex(v.init_static)),
        e: generateKeyPair(hex(v.init_ephemeral)),
        aead,
      });
      const resp = new HandshakeState({
        initiator: false,
        prologue: hex(v.resp_prologue),
        s: generateKeyPair(hex(v.resp_static)),
        e: generateKeyPair(hex(v.resp_ephemeral)),
        aead,
      });
      let i2r: CipherState | null = null, r2i: CipherState | null = null;
      let r_i2r: CipherState | null = null, r_r2i: CipherState | null = null;
      v.messages.forEach((m: { payload: string; ciphertext: string }, idx: number) => {
        const fromInit = idx % 2 === 0;
        const payload = hex(m.payload);
        let ct: Uint8Array, pt: Uint8Array;
        if (idx < 3) {
          const [w, r] = fromInit ? [init, resp] : [resp, init];
          ct = w.writeMessage(payload);
          pt = r.readMessage(ct);
          if (idx === 2) {
            assertEquals(toHex(init.handshakeHash), v.handshake_hash, "initiator's handshake hash");
            assertEquals(toHex(resp.handshakeHash), v.handshake_hash, "responder's handshake hash");
            [i2r, r2i] = init.split();
            [r_i2r, r_r2i] = resp.split();
          }
        } else {
          ct = fromInit ? i2r!.encrypt(payload) : r_r2i!.encrypt(payload);
          pt = fromInit ? r_i2r!.decrypt(ct) : r2i!.decrypt(ct);
        }
        assertEquals(toHex(ct), m.ciphertext, `message ${idx} ciphertext`);
        assertEquals(toHex(pt), m.payload, `message ${idx} payload`);
      });
    }
  });
}

Deno.test("noise: a tampered message, a replayed one, or a wrong turn is refused", () => {
  const a = new HandshakeState({ initiator: true });
  const b = new HandshakeState({ initiator: false });
  b.readMessage(a.writeMessage(new Uint8Array()));
  const m2 = b.writeMessage(new Uint8Array([1, 2, 3]));
  const bad = m2.slice();
  bad[40] ^= 1;
  assertThrows(() => a.readMessage(bad), AeadError);
  assertThrows(() => b.writeMessage(new Uint8Array()), NoiseError);
  const c = new HandshakeState({ initiator: true });
  assertThrows(() => c.readMessage(new Uint8Array(10)), NoiseError);
  const d = new HandshakeState({ initiator: false });
  assertThrows(() => d.readMessage(new Uint8Array(10)), NoiseError, "too short");
  // a transport message replayed fails: the nonce has moved on
  const x = new HandshakeState({ initiator: true }), y = new HandshakeState({ initiator: false });
  y.readMessage(x.writeMessage(new Uint8Array()));
  x.readMessage(y.writeMessage(new Uint8Array()));
  y.readMessage(x.writeMessage(new Uint8Array()));
  const [xs] = x.split(), [ys] = y.split();
  const ct = xs.encrypt(new Uint8Array([9]));
  assertEquals(ys.decrypt(ct), new Uint8Array([9]));
  assertThrows(() => ys.decrypt(ct), AeadError);
});

Deno.test("noise: a low-order public key from the peer is refused", () => {
  const b = new HandshakeState({ initiator: false });
  b.readMessage(new Uint8Array(32));
  assertThrows(() => b.writeMessage(new Uint8Array()), NoiseError, "invalid public key");
});

Deno.test("wire: a KernelMessage sent in parts decodes to the same message", async () => {
  const { encodeKernelMessage, decodeKernelMessage } = await import("../modules/net/wire.ts");
  const noSig = () => new Uint8Array();
  const { pieces } = await import("../modules/net/handshake.ts");
  const km = {
    id: 7n,
    source: "a.dev@x:y:z.os",
    target: "b.dev@x:y:z.os",
    rsvp: null,
    message: {
      Request: { inherit: false, expects_response: 5, body: new Uint8Array([1]), metadata: null, capabilities: [] },
    },
    lazy_load_blob: { mime: "application/octet-stream", bytes: new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff) },
  };
  const parts = encodeKernelMessage(km, "bin", noSig);
  assert(parts.includes(km.lazy_load_blob.bytes), "the blob goes out uncopied");
  const joined = joinBytes(parts);
  assertEquals(decodeKernelMessage(joined).km, km);
  assertEquals(decodeKernelMessage(joinBytes(encodeKernelMessage(km, "ints", noSig))).km, km);
  const cut = pieces(parts, 65519);
  assertEquals(cut.slice(0, -1).every((p) => p.length === 65519), true);
  assertEquals(cut.reduce((n, p) => n + p.length, 0), joined.length);
});
