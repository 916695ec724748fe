/**
 * What TCP and WebSocket share: the XX handshake with signed payloads, and
 * the encrypted link that carries KernelMessages afterwards.
 *
 * Each side's HandshakePayload carries Ed25519_sign(networking key, its Noise
 * static public key); the other side checks it against the key the registry
 * holds for the name in the payload, so only the owner of a name can speak
 * as it. A fresh Noise static key is made for every connection.
 */
import { type NodeKeys, sign, verify } from "../../runtime/keys.ts";
import { CipherState, generateKeyPair, HandshakeState } from "./noise.ts";
import type { FrameChannel } from "./frames.ts";
import { LinkClosed } from "./frames.ts";
import { type ByteForm, decodeHandshake, encodeHandshake, MAX_KERNEL_MESSAGE, PROTOCOL_VERSION } from "./wire.ts";
import { withTimeout } from "../../runtime/timeout.ts";

export class HandshakeError extends Error {
  override name = "HandshakeError";
}

export interface Us {
  name: string;
  keys: NodeKeys;
  /** Offer the bin byte form to peers that offer it too (false: speak only the reference's form). */
  offerBin?: boolean;
  /** Fixed Noise keys, for the reference's test vectors only. */
  fixedKeys?: { static: Uint8Array; ephemeral: Uint8Array };
}

/** The registered networking key of a node, or null if the registry does not know it. */
export type KeyLookup = (name: string) => Uint8Array | null;

function ourPayload(us: Us, hs: HandshakeState, proxy = false): Uint8Array {
  return encodeHandshake({
    protocol_version: PROTOCOL_VERSION,
    name: us.name,
    signature: sign(us.keys, hs.staticPublicKey),
    proxy_request: proxy,
  }, us.offerBin ?? true);
}

function newHandshake(us: Us, initiator: boolean): HandshakeState {
  const k = us.fixedKeys;
  return new HandshakeState(
    k ? { initiator, s: generateKeyPair(k.static), e: generateKeyPair(k.ephemeral) } : { initiator },
  );
}

/** The peer's name, whether it offered the bin byte form, and whether it asked us to route for it. */
function checkPayload(
  bytes: Uint8Array,
  hs: HandshakeState,
  lookup: KeyLookup,
  expected?: string,
): { name: string; offersBin: boolean; proxyRequest: boolean } {
  let p, offersBin;
  try {
    ({ payload: p, offersBin } = decodeHandshake(bytes));
  } catch (e) {
    throw new HandshakeError(`bad handshake payload: ${(e as Error).message}`);
  }
  if (p.protocol_version !== PROTOCOL_VERSION) {
    throw new HandshakeError(`protocol version ${p.protocol_version} is not 1`);
  }
  if (expected && p.name !== expected) {
    throw new HandshakeError(`expected ${expected}, but the peer says it is ${p.name}`);
  }
  const key = lookup(p.name);
  if (!key) throw new HandshakeError(`${p.name} is not in the registry`);
  if (!verify(key, hs.rs!, p.signature)) {
    throw new HandshakeError(`${p.name}'s handshake is not signed by its registered key`);
  }
  return { name: p.name, offersBin, proxyRequest: p.proxy_request };
}

const formWith = (us: Us, offersBin: boolean): ByteForm => (us.offerBin ?? true) && offersBin ? "bin" : "ints";

/**
 * Runs the initiator's side. `proxyRequest`: ask the peer to route for us (an
 * indirect node toward its routers sets it, as the reference's does; a router
 * passes connections on only to peers whose handshake asked).
 */
export async function initiate(
  ch: FrameChannel,
  us: Us,
  peer: string,
  lookup: KeyLookup,
  timeoutMs: number,
  proxyRequest = false,
): Promise<Link> {
  return await withTimeout(
    (async () => {
      const hs = newHandshake(us, true);
      await ch.send([hs.writeMessage(new Uint8Array())]);
      const them = checkPayload(hs.readMessage(await ch.recv()), hs, lookup, peer);
      await ch.send([hs.writeMessage(ourPayload(us, hs, proxyRequest))]);
      const [out, inn] = hs.split();
      return new Link(ch, peer, out, inn, true, formWith(us, them.offersBin));
    })(),
    timeoutMs,
    () => new HandshakeError(`handshake with ${peer} timed out`),
  );
}

/**
 * Whether the node answering on `ch` holds `name` with networking key `key`: the first two handshake messages only
 * (the answerer's payload carries its name and its signature over its Noise static key), then we hang up, having
 * proved nothing of ourselves. A boot uses it to tell a running holder of a dev-chain name from a gone one.
 */
export async function answersAs(ch: FrameChannel, name: string, key: Uint8Array, timeoutMs: number): Promise<boolean> {
  try {
    return await withTimeout(
      (async () => {
        const hs = new HandshakeState({ initiator: true });
        await ch.send([hs.writeMessage(new Uint8Array())]);
        checkPayload(hs.readMessage(await ch.recv()), hs, (n) => n === name ? key : null, name);
        return true;
      })(),
      timeoutMs,
      () => new HandshakeError(`no handshake answer within ${timeoutMs} ms`),
    );
  } catch {
    return false;
  } finally {
    ch.close();
  }
}

/** Answers a handshake whose first message (`-> e`, 32 bytes) was already read. */
export async function respond(
  ch: FrameChannel,
  first: Uint8Array,
  us: Us,
  lookup: KeyLookup,
  timeoutMs: number,
): Promise<Link> {
  return await withTimeout(
    (async () => {
      if (first.length !== 32) throw new HandshakeError("the first handshake message must be 32 bytes");
      const hs = newHandshake(us, false);
      hs.readMessage(first);
      await ch.send([hs.writeMessage(ourPayload(us, hs))]);
      const them = checkPayload(hs.readMessage(await ch.recv()), hs, lookup);
      const [inn, out] = hs.split();
      return new Link(ch, them.name, out, inn, false, formWith(us, them.offersBin), them.proxyRequest);
    })(),
    timeoutMs,
    () => new HandshakeError("inbound handshake timed out"),
  );
}

/** Plaintext bytes per encrypted piece: a Noise message is at most 65535 bytes, 16 of them the tag. */
const PIECE = 65519;
const TAG = 16;

const u32be = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};

/**
 * An established, encrypted link to one peer, framed as the reference frames
 * each transport. A serialized KernelMessage of `len` bytes goes
 *
 *   TCP: u32be(len) in the clear, then the bytes cut into pieces of at most
 *        65519, each sealed and sent behind its u16be ciphertext length;
 *   WS:  u32be(len) ++ bytes, that whole plaintext cut into pieces of at most
 *        65519, each sealed into one binary message.
 */
export class Link {
  bytesIn = 0;
  bytesOut = 0;
  messagesIn = 0;
  messagesOut = 0;
  lastActive = Date.now();
  readonly since = Date.now();
  private sending: Promise<void> = Promise.resolve();

  constructor(
    readonly ch: FrameChannel,
    readonly peer: string,
    private out: CipherState,
    private inn: CipherState,
    readonly initiatedByUs: boolean,
    /** How `Vec<u8>` fields travel on this link: "bin" only when both sides offered it. */
    readonly form: ByteForm = "ints",
    /** The peer dialed us and its handshake set proxy_request: it asked us to be its router. */
    readonly proxyRequest = false,
  ) {}

  get transport() {
    return this.ch.transport;
  }

  /**
   * Sends one serialized KernelMessage, given as parts to concatenate; pieces
   * inside one part are not copied. Sends are serialized so nonces and frames
   * stay in order.
   */
  send(message: Uint8Array | Uint8Array[]): Promise<void> {
    const parts = Array.isArray(message) ? message : [message];
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (total > MAX_KERNEL_MESSAGE) {
      return Promise.reject(
        new RangeError(
          `a message of ${total} bytes is over the wire's ${MAX_KERNEL_MESSAGE}-byte limit: send less at once`,
        ),
      );
    }
    if (this.ch.sendSealed) {
      // The channel writes in the order of these calls, sealing each piece as its turn comes: nonces follow.
      this.count(total);
      return this.ch.sendSealed(u32be(total), pieces(parts, PIECE), this.seal);
    }
    this.sending = this.sending.then(() => {
      this.count(total);
      if (this.ch.transport === "tcp") {
        return this.ch.send(pieces(parts, PIECE).map((p) => this.out.encrypt(p)), u32be(total));
      }
      return this.ch.send(pieces([u32be(total), ...parts], PIECE).map((p) => this.out.encrypt(p)));
    });
    return this.sending;
  }

  private seal = (piece: Uint8Array, out: Uint8Array) => this.out.sealInto(piece, out);

  private count(bytes: number) {
    this.bytesOut += bytes;
    this.messagesOut++;
    this.lastActive = Date.now();
  }

  /** The next serialized KernelMessage. Any failure means the link must close. */
  async recv(): Promise<Uint8Array> {
    let len: number, out: Uint8Array, o = 0;
    if (this.ch.transport === "tcp") {
      len = await this.ch.recvLength();
      this.checkLength(len);
      out = new Uint8Array(len);
    } else {
      const p0 = this.inn.decrypt(await this.ch.recvView());
      if (p0.length < 4) throw new LinkClosed("the first piece of a message is shorter than its length");
      len = new DataView(p0.buffer, p0.byteOffset).getUint32(0);
      this.checkLength(len);
      if (p0.length - 4 > len) throw new LinkClosed("a message piece is longer than announced");
      out = new Uint8Array(len);
      out.set(p0.subarray(4));
      o = p0.length - 4;
    }
    while (o < len) {
      // Opened straight into the message: a piece that would pass its end is refused before it is opened.
      const sealed = await this.ch.recvView();
      if (o + sealed.length - TAG > len) throw new LinkClosed("a message is longer than announced");
      const n = this.inn.openInto(sealed, out.subarray(o));
      if (n === 0) throw new LinkClosed("an empty message piece");
      o += n;
    }
    this.bytesIn += len;
    this.messagesIn++;
    this.lastActive = Date.now();
    return out;
  }

  private checkLength(len: number) {
    if (len > MAX_KERNEL_MESSAGE) throw new LinkClosed(`the peer announced a ${len}-byte message, over the limit`);
    if (len === 0) throw new LinkClosed("the peer announced an empty message");
  }

  close() {
    this.ch.close();
  }
}

/** Cuts the concatenation of `parts` into pieces of `size`, copying only pieces that straddle parts. */
export function pieces(parts: Uint8Array[], size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  const flush = () => {
    if (!pendingLen) return;
    if (pending.length === 1) out.push(pending[0]);
    else {
      const b = new Uint8Array(pendingLen);
      let o = 0;
      for (const p of pending) {
        b.set(p, o);
        o += p.length;
      }
      out.push(b);
    }
    pending = [];
    pendingLen = 0;
  };
  for (const part of parts) {
    let o = 0;
    while (o < part.length) {
      const n = Math.min(size - pendingLen, part.length - o);
      pending.push(part.subarray(o, o + n));
      pendingLen += n;
      o += n;
      if (pendingLen === size) flush();
    }
  }
  flush();
  return out;
}
