/**
 * Every byte of the reference node's wire transcripts (tests/vectors/hyperdrive-wire.json,
 * written from Hyperdrive's source): our encoders reproduce them and our decoders read them.
 * The TCP transcript runs over a real loopback connection and records what each side writes.
 */
import { decode } from "@msgpack/msgpack";
import { ed25519 } from "@noble/curves/ed25519.js";
import { createHash } from "node:crypto";
import { assert, assertEquals } from "./assert.ts";
import { fromHex, joinBytes, toHex } from "../runtime/bytes.ts";
import { type KernelMessage, ParseError } from "../runtime/types.ts";
import { type FrameChannel, LinkClosed, TcpFrames } from "../modules/net/frames.ts";
import { initiate, type Link, respond, type Us } from "../modules/net/handshake.ts";
import {
  capabilitySigningBytes,
  decodeHandshake,
  decodeKernelMessage,
  decodeRouting,
  encodeHandshake,
  encodeKernelMessage,
  encodeRouting,
} from "../modules/net/wire.ts";
import {
  decodeNetAction,
  decodeNetResponse,
  encodeNetAction,
  encodeNetResponse,
  type NetAction,
  type NetResponse,
} from "../runtime/api/net.ts";
import { sign } from "../runtime/keys.ts";

const V = JSON.parse(await Deno.readTextFile(new URL("./vectors/hyperdrive-wire.json", import.meta.url)));
const hex = (s: string) => fromHex(s.replace(/^0x/, ""));
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const noSig = () => new Uint8Array();

function node(t: typeof V.tcp, who: "alice" | "bob"): Us {
  const secretKey = hex(t[`${who}_ed25519_seed`]);
  return {
    name: `${who}.os`,
    keys: { secretKey, publicKey: ed25519.getPublicKey(secretKey) },
    offerBin: false,
    fixedKeys: { static: hex(t[`${who}_x25519_static_priv`]), ephemeral: hex(t[`${who}_x25519_ephemeral_priv`]) },
  };
}

const lookup = (t: typeof V.tcp) => (name: string) =>
  name === "alice.os"
    ? hex(t.alice_networking_key_ed25519_pub)
    : name === "bob.os"
    ? hex(t.bob_networking_key_ed25519_pub)
    : null;

const km1: KernelMessage = {
  id: 0x0123456789abcdefn,
  source: "alice.os@net:distro:sys",
  target: "bob.os@net:distro:sys",
  rsvp: "alice.os@net:distro:sys",
  message: {
    Request: {
      inherit: false,
      expects_response: 5,
      body: new TextEncoder().encode("hi bob"),
      metadata: null,
      capabilities: [],
    },
  },
  lazy_load_blob: null,
};

const km2: KernelMessage = {
  id: 0x0123456789abcdefn,
  source: "bob.os@net:distro:sys",
  target: "alice.os@net:distro:sys",
  rsvp: null,
  message: {
    Response: [{ inherit: false, body: new TextEncoder().encode("ack"), metadata: null, capabilities: [] }, null],
  },
  lazy_load_blob: null,
};

function bigMessage(): KernelMessage {
  const bytes = new Uint8Array(70_000);
  for (let i = 0; i < 256 * 273; i++) bytes[i] = i & 0xff;
  return {
    id: 2n,
    source: "alice.os@some-proc:some-pkg:alice.os",
    target: "bob.os@some-proc:some-pkg:alice.os",
    rsvp: null,
    message: {
      Request: { inherit: false, expects_response: null, body: new Uint8Array(), metadata: null, capabilities: [] },
    },
    lazy_load_blob: { mime: "application/octet-stream", bytes },
  };
}

const send = (link: Link, km: KernelMessage) => link.send(encodeKernelMessage(km, link.form, noSig));
const received = async (link: Link) => decodeKernelMessage(await link.recv()).km;

Deno.test("wire vectors: messages encode to the reference's bytes and decode back", () => {
  for (const [km, want] of [[km1, V.tcp.km1_msgpack], [km2, V.tcp.km2_msgpack]] as const) {
    assertEquals(toHex(joinBytes(encodeKernelMessage(km, "ints", noSig))), want);
    assertEquals(decodeKernelMessage(hex(want)).km, km);
  }
  const big = joinBytes(encodeKernelMessage(bigMessage(), "ints", noSig));
  assertEquals(big.length, V.tcp.big.serialized_len);
  assertEquals(sha256(big), V.tcp.big.serialized_sha256);
  assertEquals(decodeKernelMessage(big).km, bigMessage());
});

Deno.test("wire vectors: HandshakePayloads and the RoutingRequest", () => {
  for (const who of ["alice", "bob"] as const) {
    const want = V.tcp[`handshake_payload_${who}_msgpack`];
    const { payload, offersBin } = decodeHandshake(hex(want));
    assertEquals(offersBin, false, "a reference payload offers no bin");
    assertEquals(toHex(encodeHandshake(payload)), want);
    assertEquals(payload.name, `${who}.os`);
    // Our offer is the same payload to any MessagePack reader, rmp-serde included.
    const offered = encodeHandshake(payload, true);
    assertEquals(decode(offered), decode(hex(want)));
    assertEquals(decodeHandshake(offered), { payload, offersBin: true });
  }
  const rr = V.misc.routing_request;
  const alice = node(V.tcp, "alice");
  const signature = sign(alice.keys, new TextEncoder().encode(rr.signed_bytes_utf8));
  const ours = encodeRouting({ protocol_version: 1, source: "alice.os", signature, target: "carol.os" });
  assertEquals(toHex(ours), rr.msgpack);
  assertEquals(ours.length, rr.len);
  assertEquals(decodeRouting(hex(rr.msgpack)), {
    protocol_version: 1,
    source: "alice.os",
    signature,
    target: "carol.os",
  });
});

Deno.test("wire vectors: capabilities travel signed, contexts and blobs as integer arrays", () => {
  const alice = node(V.tcp, "alice");
  const cap = { issuer: "alice.os@vfs:distro:sys", params: '{"kind": "read", "drive": "/chat:alice.os/pkg"}' };
  assertEquals(toHex(capabilitySigningBytes(cap)), V.misc.capability.msgpack_signed_bytes);
  const sig = sign(alice.keys, capabilitySigningBytes(cap));
  assertEquals(toHex(sig), V.misc.capability.ed25519_sig);
  const withCap: KernelMessage = {
    id: 42n,
    source: "alice.os@chat:chat:alice.os",
    target: "bob.os@chat:chat:alice.os",
    rsvp: null,
    message: {
      Request: {
        inherit: true,
        expects_response: null,
        body: new TextEncoder().encode("{}"),
        metadata: '{"k":1}',
        capabilities: [cap],
      },
    },
    lazy_load_blob: { mime: "text/plain", bytes: new TextEncoder().encode("xyz") },
  };
  assertEquals(toHex(joinBytes(encodeKernelMessage(withCap, "ints", () => sig))), V.misc.km_with_cap_and_blob);
  assertEquals(decodeKernelMessage(hex(V.misc.km_with_cap_and_blob)), { km: withCap, signatures: [sig] });
  const withContext: KernelMessage = {
    id: 43n,
    source: "bob.os@chat:chat:alice.os",
    target: "alice.os@chat:chat:alice.os",
    rsvp: null,
    message: {
      Response: [
        { inherit: false, body: new TextEncoder().encode("ok"), metadata: null, capabilities: [] },
        Uint8Array.of(1, 2),
      ],
    },
    lazy_load_blob: null,
  };
  assertEquals(toHex(joinBytes(encodeKernelMessage(withContext, "ints", noSig))), V.misc.response_with_context);
  assertEquals(decodeKernelMessage(hex(V.misc.response_with_context)).km, withContext);
});

Deno.test("wire vectors: NetAction and NetResponse bodies", () => {
  const actions: [string, NetAction][] = [
    ["GetPeers", "GetPeers"],
    ["GetPeer(carol.os)", { GetPeer: "carol.os" }],
    ["GetDiagnostics", "GetDiagnostics"],
    ["Sign", "Sign"],
    ["ConnectionRequest(alice.os)", { ConnectionRequest: "alice.os" }],
    ["HnsUpdate(carol direct)", {
      HnsUpdate: {
        name: "carol.os",
        public_key: "ab".repeat(32),
        ips: ["127.0.0.1"],
        ports: { tcp: 10001, ws: 9001 },
        routers: [],
      },
    }],
    ["Verify{from,signature}", { Verify: { from: "alice.os@chat:chat:alice.os", signature: new Uint8Array(64) } }],
  ];
  for (const [name, action] of actions) {
    assertEquals(toHex(encodeNetAction(action)), V.misc.netaction[name], name);
    assertEquals(decodeNetAction(decode(hex(V.misc.netaction[name]))), action, name);
  }
  const responses: [string, NetResponse][] = [
    ["NetResponse::Verified(true)", { Verified: true }],
    ["NetResponse::Rejected(alice.os)", { Rejected: "alice.os" }],
  ];
  for (const [name, response] of responses) {
    assertEquals(toHex(encodeNetResponse(response)), V.misc.netaction[name], name);
    assertEquals(decodeNetResponse(decode(hex(V.misc.netaction[name]))), response, name);
  }
});

/** A loopback TCP pair whose writes are recorded, side by side. */
async function tcpPair() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port }),
    listener.accept(),
  ]);
  listener.close();
  const log = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  const recorded = (conn: Deno.TcpConn, into: Uint8Array[]) =>
    new Proxy(conn, {
      get(target, p) {
        if (p === "write") {
          return (bytes: Uint8Array) => {
            into.push(bytes.slice());
            return target.write(bytes);
          };
        }
        const v = Reflect.get(target, p);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  return { a: new TcpFrames(recorded(a, log.a)), b: new TcpFrames(recorded(b, log.b)), log };
}

Deno.test("wire vectors: a TCP link writes the reference's transcript byte for byte", async () => {
  const t = V.tcp;
  const { a, b, log } = await tcpPair();
  try {
    const [alice, bob] = await Promise.all([
      initiate(a, node(t, "alice"), "bob.os", lookup(t), 5000),
      b.recv().then((first) => respond(b, first, node(t, "bob"), lookup(t), 5000)),
    ]);
    assertEquals([alice.form, bob.form], ["ints", "ints"]);
    await send(alice, km1);
    assertEquals(await received(bob), km1);
    await send(bob, km2);
    assertEquals(await received(alice), km2);
    const wire = (i: number) => t.wire[i].hex;
    assertEquals(toHex(joinBytes(log.a)), wire(0) + wire(2) + wire(3), "alice → bob");
    assertEquals(toHex(joinBytes(log.b)), wire(1) + wire(4), "bob → alice");
    const before = log.a.length;
    await send(alice, bigMessage());
    assertEquals(await received(bob), bigMessage());
    const big = joinBytes(log.a.slice(before));
    assertEquals(big.length, t.big.wire_len);
    assertEquals(sha256(big), t.big.wire_sha256);
    const view = new DataView(big.buffer);
    assertEquals([view.getUint16(4), view.getUint16(4 + 2 + 65535)], t.big.chunk_ct_lens);
  } finally {
    a.close();
    b.close();
  }
});

/** Two in-memory WebSocket ends: each frame is one binary message, recorded. */
function wsPair() {
  const log = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  const queues = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  const waiting: Record<"a" | "b", ((b: Uint8Array) => void) | null> = { a: null, b: null };
  const end = (me: "a" | "b", them: "a" | "b"): FrameChannel => ({
    transport: "ws",
    remote: `memory:${me}`,
    send(frames: Uint8Array[], head?: Uint8Array) {
      if (head) return Promise.reject(new RangeError("no head on ws"));
      for (const f of frames) {
        log[me].push(f.slice());
        const w = waiting[them];
        if (w) {
          waiting[them] = null;
          w(f.slice());
        } else queues[them].push(f.slice());
      }
      return Promise.resolve();
    },
    recv() {
      const f = queues[me].shift();
      return f ? Promise.resolve(f) : new Promise((r) => waiting[me] = r);
    },
    recvView() {
      return this.recv();
    },
    recvLength: () => Promise.reject(new LinkClosed("ws")),
    close() {},
  });
  return { a: end("a", "b"), b: end("b", "a"), log };
}

Deno.test("wire vectors: a WebSocket link sends the reference's messages byte for byte", async () => {
  const t = V.ws;
  const { a, b, log } = wsPair();
  const [alice, bob] = await Promise.all([
    initiate(a, node(t, "alice"), "bob.os", lookup(t), 5000),
    b.recv().then((first) => respond(b, first, node(t, "bob"), lookup(t), 5000)),
  ]);
  await send(alice, km1);
  assertEquals(await received(bob), km1);
  await send(bob, km2);
  assertEquals(await received(alice), km2);
  assertEquals(log.a.map(toHex), [t.wire[0].hex, t.wire[2].hex, t.wire[3].hex]);
  assertEquals(log.b.map(toHex), [t.wire[1].hex, t.wire[4].hex]);
  const before = log.a.length;
  await send(alice, bigMessage());
  assertEquals(await received(bob), bigMessage());
  const sent = log.a.slice(before);
  assertEquals(sent.map((m) => m.length), t.big.ws_message_lens);
  assertEquals(sent.map(sha256), t.big.ws_sha256);
});

Deno.test("wire: two hyperdeno ends agree on bin; one reference end keeps both on integer arrays", async () => {
  const t = V.tcp;
  for (
    const [aliceOffers, bobOffers, form] of [[true, true, "bin"], [true, false, "ints"], [false, true, "ints"]] as const
  ) {
    const { a, b, log } = wsPair();
    const [alice, bob] = await Promise.all([
      initiate(a, { ...node(t, "alice"), offerBin: aliceOffers }, "bob.os", lookup(t), 5000),
      b.recv().then((first) => respond(b, first, { ...node(t, "bob"), offerBin: bobOffers }, lookup(t), 5000)),
    ]);
    assertEquals([alice.form, bob.form], [form, form]);
    const before = log.a.length;
    await send(alice, bigMessage());
    assertEquals(await received(bob), bigMessage());
    const bytes = log.a.slice(before).reduce((n, m) => n + m.length, 0);
    // Integer arrays spend two bytes on each byte over 127.
    assert(form === "bin" ? bytes < 71_000 : bytes > 100_000, `${form}: ${bytes} bytes on the wire`);
  }
});

Deno.test("wire fuzz: random and mutated bytes give a ParseError, never another failure", () => {
  const seeds = [V.tcp.km1_msgpack, V.tcp.km2_msgpack, V.misc.km_with_cap_and_blob, V.misc.response_with_context]
    .map(hex);
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ["KernelMessage", decodeKernelMessage],
    ["HandshakePayload", decodeHandshake],
    ["RoutingRequest", decodeRouting],
    ["NetAction", (b) => decodeNetAction(decode(b))],
  ];
  let rejected = 0;
  for (let round = 0; round < 20_000; round++) {
    let b: Uint8Array;
    if (round % 2) b = crypto.getRandomValues(new Uint8Array(round % 300));
    else {
      b = seeds[round % seeds.length].slice(0, seeds[0].length + (round % 97));
      for (let k = 0; k <= round % 4; k++) b[(round * 131 + k * 17) % b.length] ^= 1 << (round % 8);
    }
    for (const [name, dec] of decoders) {
      try {
        dec(b);
      } catch (e) {
        rejected++;
        // The general library's own errors count as malformed input too (RangeError for a bad marker).
        const ok = e instanceof ParseError || (name === "NetAction" && e instanceof Error);
        assert(ok, `${name}: ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
  }
  assert(rejected > 50_000, `${rejected} rejections`);
});
