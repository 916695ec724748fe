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
import { registerOnChain, type TestChain, waitFor } from "../runtime/testing.ts";
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
  /** Bytes read but not yet taken (a router passes them on when it splices). */
  rest(): Uint8Array {
    const b = this.buf;
    this.buf = new Uint8Array();
    return b;
  }
}

/** One transport's way of moving handshake frames and KernelMessages. */
interface Transport {
  sendFrame(f: Uint8Array): Promise<void>;
  recvFrame(): Promise<Uint8Array>;
  sendMessage(km: Uint8Array, out: CipherState): Promise<void>;
  recvMessage(inn: CipherState): Promise<Uint8Array>;
  close(): void;
  /** TCP only: the connection and its reader, for a router that splices. */
  tcp?: { conn: Deno.TcpConn; reader: TcpReader };
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
    close: () => {
      try {
        conn.close();
      } catch { /* closed */ }
    },
    tcp: { conn, reader: r },
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

/** A registry lookup: a name's networking key, or null. */
export type KeyOf = (name: string) => Uint8Array | null;

const NET_PROCESS = "net:distro:sys";

function randomU64(): bigint {
  return new BigUint64Array(crypto.getRandomValues(new Uint8Array(8)).buffer)[0];
}

/** Copies one TCP connection into another, bytes already read first, until either ends (the reference's passthrough). */
async function pipe(from: NonNullable<Transport["tcp"]>, to: Deno.TcpConn) {
  const write = async (b: Uint8Array) => {
    for (let o = 0; o < b.length;) o += await to.write(b.subarray(o));
  };
  try {
    await write(from.reader.rest());
    const buf = new Uint8Array(65536);
    for (let n; (n = await from.conn.read(buf)) !== null;) await write(buf.subarray(0, n));
  } catch { /* either side gone */ }
  for (const c of [from.conn, to]) {
    try {
      c.close();
    } catch { /* closed */ }
  }
}

/** What a reference router or indirect node saw, for tests to check. */
export interface Seen {
  /** Handshakes answered as a router: who, and whether it set proxy_request. */
  handshakes: { peer: string; proxyRequest: boolean }[];
  /** RoutingRequests refused, with the reason. */
  refused: string[];
  /** Messages received on any link, strictly decoded. */
  messages: RefMessage[];
  /** Routed connections made (spliced as a router, accepted as an indirect node). */
  routed: string[];
  /** Ids of the ConnectionRequests sent as a router. */
  asked: bigint[];
}

/** How a reference indirect node answers its router's ConnectionRequest. */
export type OnConnectionRequest = "connect back" | "reject";

export class ReferencePeer {
  readonly keys: { secretKey: Uint8Array; publicKey: Uint8Array };
  private listener: Deno.TcpListener | null = null;
  readonly seen: Seen = { handshakes: [], refused: [], messages: [], routed: [], asked: [] };
  private routedPeers = new Map<string, { link: RefLink; routingFor: boolean }>();
  private closers: (() => void)[] = [];

  private constructor(readonly name: string, keys?: { secretKey: Uint8Array; publicKey: Uint8Array }) {
    const secretKey = keys?.secretKey ?? ed25519.utils.randomSecretKey();
    this.keys = { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
  }

  /** The same identity afresh, as after a restart: no connections, nothing seen. */
  again(): ReferencePeer {
    return new ReferencePeer(this.name, this.keys);
  }

  /** Registers `name`, listening on a TCP port of its own, and waits until `known` to the given node. */
  static async start(net: Net, name: string, knownTo: string): Promise<ReferencePeer> {
    const p = await ReferencePeer.listening(net.chain, name);
    await waitFor(`${name} known to ${knownTo}`, () => net.nodes[knownTo].net!.hns.has(name));
    return p;
  }

  /** Registers `name` as a direct node on 127.0.0.1 with a TCP port of its own (nodes booted later find it). */
  static async listening(chain: TestChain, name: string): Promise<ReferencePeer> {
    const p = new ReferencePeer(name);
    p.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (p.listener.addr as Deno.NetAddr).port;
    await registerOnChain(chain, name, p.keys.publicKey, { ports: { tcp: port } });
    return p;
  }

  /** Registers `name` as an indirect node behind `routers`; it listens on nothing. */
  static async indirect(chain: TestChain, name: string, routers: string[]): Promise<ReferencePeer> {
    const p = new ReferencePeer(name);
    await registerOnChain(chain, name, p.keys.publicKey, { ips: [], ports: {}, routers });
    return p;
  }

  get port(): number {
    return (this.listener!.addr as Deno.NetAddr).port;
  }

  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.keys.secretKey);
  }

  private payload(hs: HandshakeState, proxyRequest = false): Uint8Array {
    // rmp-serde's struct: a fixarray of four, the signature an array of integers.
    return encode([1, this.name, ints(this.sign(hs.staticPublicKey)), proxyRequest]);
  }

  private check(payload: Uint8Array, hs: HandshakeState, key: Uint8Array | null): [string, boolean] {
    const [version, name, sig, proxy] = decode(payload) as [number, string, unknown, boolean];
    if (version !== 1) throw new Error(`protocol ${version}`);
    if (!key) throw new Error(`unknown HNS name '${name}'`);
    if (!ed25519.verify(strictBytes(sig, "handshake signature"), hs.rs!, key)) {
      throw new Error("bad handshake signature");
    }
    return [name, proxy];
  }

  /** The initiator's side of the handshake on `t`, with the peer's key; `proxyRequest` as an indirect node sets it. */
  private async initiate(t: Transport, key: Uint8Array, proxyRequest = false): Promise<RefLink> {
    const hs = new HandshakeState({ initiator: true });
    await t.sendFrame(hs.writeMessage(new Uint8Array()));
    this.check(hs.readMessage(await t.recvFrame()), hs, key);
    await t.sendFrame(hs.writeMessage(this.payload(hs, proxyRequest)));
    const [out, inn] = hs.split();
    return new RefLink(t, out, inn);
  }

  /** The responder's side, its first message (`e`) already read. */
  private async respond(
    t: Transport,
    first: Uint8Array,
    keyOf: KeyOf,
  ): Promise<{ link: RefLink; peer: string; proxyRequest: boolean }> {
    const hs = new HandshakeState({ initiator: false });
    hs.readMessage(first);
    await t.sendFrame(hs.writeMessage(this.payload(hs)));
    const payload = hs.readMessage(await t.recvFrame());
    const [, name] = decode(payload) as [number, string];
    const [peer, proxyRequest] = this.check(payload, hs, keyOf(name));
    const [inn, out] = hs.split();
    return { link: new RefLink(t, out, inn), peer, proxyRequest };
  }

  /** Dials a node over TCP or WebSocket and runs the initiator's side of the handshake. */
  async dial(net: Net, node: string, over: "tcp" | "ws" = "tcp"): Promise<RefLink> {
    const n = net.nodes[node].net!;
    const t = over === "tcp"
      ? tcpTransport(await Deno.connect({ hostname: "127.0.0.1", port: n.tcpPort }))
      : await wsTransport(`ws://127.0.0.1:${n.wsPort}`);
    return await this.initiate(t, n.keyOf(node)!);
  }

  /** Accepts one TCP connection and answers its handshake; returns the link and who it is. */
  async accept(keyOf: KeyOf): Promise<{ link: RefLink; peer: string }> {
    const t = tcpTransport(await this.listener!.accept());
    return await this.respond(t, await t.recvFrame(), keyOf);
  }

  /** A RoutingRequest as rmp-serde writes it: source, signature over target ++ router, target. */
  private routingRequest(target: string, router: string): Uint8Array {
    return encode([1, this.name, ints(this.sign(new TextEncoder().encode(target + router))), target]);
  }

  /** Reaches indirect node `target` through its router at 127.0.0.1:`port`, as Hyperdrive's init_routed does. */
  async dialThrough(router: string, port: number, target: string, keyOf: KeyOf): Promise<RefLink> {
    const t = tcpTransport(await Deno.connect({ hostname: "127.0.0.1", port }));
    this.closers.push(() => t.close());
    await t.sendFrame(this.routingRequest(target, router));
    return await this.initiate(t, keyOf(target)!);
  }

  // ---------------------------------------------------------------- as a Hyperdrive router

  /**
   * Serves as a router the way Hyperdrive's does (its net/tcp and net/utils):
   * a handshake marks the peer as one we route for only if it set
   * proxy_request; a RoutingRequest for such a peer is held and the peer is
   * sent a ConnectionRequest (expects_response 5, no rsvp); its matching
   * RoutingRequest is spliced to the held one; a Rejected answer drops it.
   * Any other RoutingRequest is refused by closing the connection.
   */
  serveAsRouter(keyOf: KeyOf) {
    const peers = this.routedPeers;
    const pending = new Map<string, Transport>();
    const onConnection = async (t: Transport) => {
      const first = await t.recvFrame();
      if (first.length === 32) {
        const { link, peer, proxyRequest } = await this.respond(t, first, keyOf);
        this.seen.handshakes.push({ peer, proxyRequest });
        peers.set(peer, { link, routingFor: proxyRequest });
        this.readLoop(link, (m) => {
          const v = m.response ? decode(m.response.body) as { Rejected?: string } : null;
          const slot = `${v?.Rejected}>${m.source.split("@")[0]}`;
          if (v?.Rejected !== undefined) pending.get(slot)?.close();
          pending.delete(slot);
        });
        return;
      }
      const [version, source, sig, target] = decode(first) as [number, string, unknown, string];
      const key = keyOf(source);
      if (version !== 1 || !key) throw new Error(`routing request from unknown ${source}`);
      if (!ed25519.verify(strictBytes(sig, "routing signature"), new TextEncoder().encode(target + this.name), key)) {
        throw new Error(`routing request from ${source} is not signed by its key`);
      }
      const back = pending.get(`${target}>${source}`);
      if (back) {
        pending.delete(`${target}>${source}`);
        this.seen.routed.push(`${target}>${source}`);
        pipe(back.tcp!, t.tcp!.conn);
        pipe(t.tcp!, back.tcp!.conn);
        return;
      }
      const peer = peers.get(target);
      if (!peer) throw new Error(`can't route to ${target}, not a peer`);
      if (!peer.routingFor) throw new Error(`we don't do routing for ${target}`);
      pending.set(`${source}>${target}`, t);
      await this.askToConnect(target, source);
    };
    (async () => {
      for await (const conn of this.listener!) {
        const t = tcpTransport(conn);
        this.closers.push(() => t.close());
        onConnection(t).catch((e) => {
          this.seen.refused.push((e as Error).message);
          t.close();
        });
      }
    })().catch(() => {});
  }

  /** Sends `target` (a peer we route for) a ConnectionRequest for `from`, as the reference's router does. */
  async askToConnect(target: string, from: string): Promise<bigint> {
    const id = randomU64();
    this.seen.asked.push(id);
    const body = encode({ ConnectionRequest: from });
    await this.routedPeers.get(target)!.link.send(
      encode([
        id,
        `${this.name}@${NET_PROCESS}`,
        `${target}@${NET_PROCESS}`,
        null,
        { Request: [false, 5, ints(body), null, []] },
        null,
      ], { useBigInt64: true }),
    );
    return id;
  }

  // ---------------------------------------------------------------- as a Hyperdrive indirect node

  /**
   * Connects to `router` (at 127.0.0.1:`port`) as Hyperdrive's indirect node
   * does (net/indirect.rs), with proxy_request set unless told otherwise, and
   * serves its ConnectionRequests: "connect back" dials the router with a
   * RoutingRequest and answers the handshake that comes through (and, like
   * the reference, sends no answer); "reject" answers Rejected.
   */
  async joinRouter(
    router: string,
    port: number,
    keyOf: KeyOf,
    opts: { proxyRequest?: boolean; onRequest?: OnConnectionRequest } = {},
  ): Promise<RefLink> {
    const t = tcpTransport(await Deno.connect({ hostname: "127.0.0.1", port }));
    this.closers.push(() => t.close());
    const link = await this.initiate(t, keyOf(router)!, opts.proxyRequest ?? true);
    this.readLoop(link, async (m) => {
      const v = m.request ? decode(m.request.body) as { ConnectionRequest?: string } : null;
      const from = v?.ConnectionRequest;
      if (from === undefined || m.source !== `${router}@${NET_PROCESS}`) return;
      if (opts.onRequest === "reject") {
        await link.send(
          encodeResponse(m.id, `${this.name}@${NET_PROCESS}`, m.rsvp ?? m.source, encode({ Rejected: from })),
        );
        return;
      }
      const back = tcpTransport(await Deno.connect({ hostname: "127.0.0.1", port }));
      this.closers.push(() => back.close());
      await back.sendFrame(this.routingRequest(from, router));
      const { link: routed, peer } = await this.respond(back, await back.recvFrame(), keyOf);
      if (peer !== from) throw new Error(`expected ${from} through ${router}, got ${peer}`);
      this.seen.routed.push(`${from}>${this.name}`);
      this.readLoop(routed, () => {});
    });
    return link;
  }

  /**
   * Reads a link until it closes, recording every message; answers a request
   * that is no NetAction with "ack", as the reference's hello does.
   */
  private readLoop(link: RefLink, onMessage: (m: RefMessage) => void | Promise<void>) {
    (async () => {
      while (true) {
        const m = await link.recv();
        this.seen.messages.push(m);
        await onMessage(m);
        if (m.request && m.request.expects !== null && m.target === `${this.name}@${NET_PROCESS}`) {
          let isAction = false;
          try {
            const v = decode(m.request.body);
            isAction = typeof v === "object" && v !== null && "ConnectionRequest" in v;
          } catch { /* a hello */ }
          if (!isAction) {
            await link.send(encodeResponse(m.id, m.target, m.rsvp ?? m.source, new TextEncoder().encode("ack")));
          }
        }
      }
    })().catch(() => link.close());
  }

  close() {
    try {
      this.listener?.close();
    } catch { /* closed */ }
    for (const c of this.closers) c();
  }
}
