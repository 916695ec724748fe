/**
 * A peer that speaks the reference node's protocol as Hyperdrive does, written
 * apart from modules/net (only the Noise state machine, checked against the
 * cacophony vectors, is shared): its own framing, MessagePack from a general
 * library, and rmp-serde's strictness — a `Vec<u8>` must be an ARRAY of
 * integers, so any bin from a hyperdeno node is an error here, as it would be
 * for a Hyperdrive node.
 */
import { decode, encode } from "@msgpack/msgpack";
import { ed25519 } from "@noble/curves/ed25519.js";
import { CipherState, HandshakeState } from "../modules/net/noise.ts";
import { registerOnChain, waitFor } from "../runtime/testing.ts";
import { joinBytes } from "../runtime/bytes.ts";
import type { Net } from "./net_helpers.ts";

const PIECE = 65519;

/** A Vec<u8> as rmp-serde reads it: an array of integers 0-255, nothing else. */
export function strictBytes(v: unknown, what: string): Uint8Array {
  if (!Array.isArray(v) || !v.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
    throw new Error(`${what} is not an array of integers (rmp-serde would refuse it)`);
  }
  return Uint8Array.from(v);
}

const ints = (b: Uint8Array) => Array.from(b);
const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

export interface RefMessage {
  id: bigint;
  source: string;
  target: string;
  rsvp: string | null;
  request?: { expects: number | null; body: Uint8Array; caps: [string, string, Uint8Array][] };
  response?: { body: Uint8Array };
}

/** Decodes a KernelMessage the way the reference does (rmp-serde's shapes, integer arrays only). */
export function decodeStrict(bytes: Uint8Array): RefMessage {
  const v = decode(bytes, { useBigInt64: true }) as unknown[];
  if (!Array.isArray(v) || v.length !== 6) throw new Error("KernelMessage is not a 6-element array");
  type Wire = {
    Request?: [boolean, number | null, unknown, string | null, [[string, string], unknown][]];
    Response?: [[boolean, unknown, string | null, unknown[]], unknown];
  };
  const [id, source, target, rsvp, message, blob] = v as [
    bigint | number,
    string,
    string,
    string | null,
    Wire,
    [string | null, unknown] | null,
  ];
  const out: RefMessage = { id: BigInt(id), source, target, rsvp };
  if (message.Request) {
    const [, expects, body, , caps] = message.Request;
    out.request = {
      expects,
      body: strictBytes(body, "body"),
      caps: caps.map((
        [[issuer, params], sig]: [[string, string], unknown],
      ) => [issuer, params, strictBytes(sig, "sig")]),
    };
  } else {
    const [[, body], context] = message.Response!;
    out.response = { body: strictBytes(body, "body") };
    if (context !== null) strictBytes(context, "context");
  }
  if (blob !== null) strictBytes(blob[1], "blob");
  return out;
}

export function encodeRequest(
  id: bigint,
  source: string,
  target: string,
  body: Uint8Array,
  caps: [string, string, Uint8Array][] = [],
): Uint8Array {
  const c = caps.map(([issuer, params, sig]) => [[issuer, params], ints(sig)]);
  return encode([id, source, target, source, { Request: [false, 5, ints(body), null, c] }, null], {
    useBigInt64: true,
  });
}

export function encodeResponse(id: bigint, source: string, target: string, body: Uint8Array): Uint8Array {
  return encode([id, source, target, null, { Response: [[false, ints(body), null, []], null] }, null], {
    useBigInt64: true,
  });
}

/** A byte reader over a TCP connection. */
class TcpReader {
  private buf = new Uint8Array();
  constructor(private conn: Deno.TcpConn) {}
  async take(n: number): Promise<Uint8Array> {
    while (this.buf.length < n) {
      const chunk = new Uint8Array(65536);
      const got = await this.conn.read(chunk);
      if (got === null) throw new Error("connection closed");
      const next = new Uint8Array(this.buf.length + got);
      next.set(this.buf);
      next.set(chunk.subarray(0, got), this.buf.length);
      this.buf = next;
    }
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return out;
  }
}

/** One transport's way of moving handshake frames and KernelMessages. */
interface Transport {
  sendFrame(f: Uint8Array): Promise<void>;
  recvFrame(): Promise<Uint8Array>;
  sendMessage(km: Uint8Array, out: CipherState): Promise<void>;
  recvMessage(inn: CipherState): Promise<Uint8Array>;
  close(): void;
}

function tcpTransport(conn: Deno.TcpConn): Transport {
  const r = new TcpReader(conn);
  const write = async (b: Uint8Array) => {
    for (let o = 0; o < b.length;) o += await conn.write(b.subarray(o));
  };
  const framed = (f: Uint8Array) => {
    const out = new Uint8Array(2 + f.length);
    out[0] = f.length >> 8;
    out[1] = f.length & 0xff;
    out.set(f, 2);
    return out;
  };
  const recvFrame = async () => {
    const h = await r.take(2);
    return r.take((h[0] << 8) | h[1]);
  };
  return {
    sendFrame: (f) => write(framed(f)),
    recvFrame,
    async sendMessage(km, out) {
      await write(u32(km.length));
      for (let o = 0; o < km.length; o += PIECE) await write(framed(out.encrypt(km.subarray(o, o + PIECE))));
    },
    async recvMessage(inn) {
      const h = await r.take(4);
      const len = new DataView(h.buffer).getUint32(0);
      const parts: Uint8Array[] = [];
      for (let got = 0; got < len;) {
        const p = inn.decrypt(await recvFrame());
        parts.push(p);
        got += p.length;
      }
      return joinBytes(parts);
    },
    close: () => conn.close(),
  };
}

async function wsTransport(url: string): Promise<Transport> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const queue: Uint8Array[] = [];
  const waiting: ((b: Uint8Array) => void)[] = [];
  ws.onmessage = (e) => {
    const b = new Uint8Array(e.data as ArrayBuffer);
    const w = waiting.shift();
    if (w) w(b);
    else queue.push(b);
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const recvFrame = () =>
    queue.length ? Promise.resolve(queue.shift()!) : new Promise<Uint8Array>((r) => waiting.push(r));
  return {
    sendFrame: (f) => Promise.resolve(ws.send(f)),
    recvFrame,
    sendMessage(km, out) {
      const whole = new Uint8Array(4 + km.length);
      whole.set(u32(km.length));
      whole.set(km, 4);
      for (let o = 0; o < whole.length; o += PIECE) ws.send(out.encrypt(whole.subarray(o, o + PIECE)));
      return Promise.resolve();
    },
    async recvMessage(inn) {
      const first = inn.decrypt(await recvFrame());
      const len = new DataView(first.buffer, first.byteOffset).getUint32(0);
      const out = new Uint8Array(len);
      out.set(first.subarray(4));
      for (let o = first.length - 4; o < len;) {
        const p = inn.decrypt(await recvFrame());
        out.set(p, o);
        o += p.length;
      }
      return out;
    },
    close: () => ws.close(),
  };
}

/** An established link, as a reference node holds one. */
export class RefLink {
  constructor(private t: Transport, private out: CipherState, private inn: CipherState) {}
  send(km: Uint8Array): Promise<void> {
    return this.t.sendMessage(km, this.out);
  }
  async recv(): Promise<RefMessage> {
    return decodeStrict(await this.t.recvMessage(this.inn));
  }
  close() {
    this.t.close();
  }
}

export class ReferencePeer {
  readonly keys: { secretKey: Uint8Array; publicKey: Uint8Array };
  private listener: Deno.TcpListener | null = null;

  private constructor(readonly name: string) {
    const secretKey = ed25519.utils.randomSecretKey();
    this.keys = { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
  }

  /** Registers `name`, listening on a TCP port of its own, and waits until `known` to the given node. */
  static async start(net: Net, name: string, knownTo: string): Promise<ReferencePeer> {
    const p = new ReferencePeer(name);
    p.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (p.listener.addr as Deno.NetAddr).port;
    await registerOnChain(net.chain, name, p.keys.publicKey, { ports: { tcp: port } });
    await waitFor(`${name} known to ${knownTo}`, () => net.nodes[knownTo].net!.hns.has(name));
    return p;
  }

  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.keys.secretKey);
  }

  private payload(hs: HandshakeState): Uint8Array {
    // rmp-serde's struct: a fixarray of four, the signature an array of integers.
    return encode([1, this.name, ints(this.sign(hs.staticPublicKey)), false]);
  }

  private check(payload: Uint8Array, hs: HandshakeState, key: Uint8Array): string {
    const [version, name, sig] = decode(payload) as [number, string, unknown, boolean];
    if (version !== 1) throw new Error(`protocol ${version}`);
    if (!ed25519.verify(strictBytes(sig, "handshake signature"), hs.rs!, key)) {
      throw new Error("bad handshake signature");
    }
    return name;
  }

  /** Dials a node over TCP or WebSocket and runs the initiator's side of the handshake. */
  async dial(net: Net, node: string, over: "tcp" | "ws" = "tcp"): Promise<RefLink> {
    const n = net.nodes[node].net!;
    const t = over === "tcp"
      ? tcpTransport(await Deno.connect({ hostname: "127.0.0.1", port: n.tcpPort }))
      : await wsTransport(`ws://127.0.0.1:${n.wsPort}`);
    const hs = new HandshakeState({ initiator: true });
    await t.sendFrame(hs.writeMessage(new Uint8Array()));
    this.check(hs.readMessage(await t.recvFrame()), hs, n.keyOf(node)!);
    await t.sendFrame(hs.writeMessage(this.payload(hs)));
    const [out, inn] = hs.split();
    return new RefLink(t, out, inn);
  }

  /** Accepts one TCP connection and answers its handshake; returns the link and who it is. */
  async accept(keyOf: (name: string) => Uint8Array | null): Promise<{ link: RefLink; peer: string }> {
    const t = tcpTransport(await this.listener!.accept());
    const hs = new HandshakeState({ initiator: false });
    hs.readMessage(await t.recvFrame());
    await t.sendFrame(hs.writeMessage(this.payload(hs)));
    const payload = hs.readMessage(await t.recvFrame());
    const [, name] = decode(payload) as [number, string];
    this.check(payload, hs, keyOf(name)!);
    const [inn, out] = hs.split();
    return { link: new RefLink(t, out, inn), peer: name };
  }

  close() {
    this.listener?.close();
  }
}
