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
import { CipherState, HandshakeState } from "./noise.ts";
import type { FrameChannel } from "./frames.ts";
import { LinkClosed } from "./frames.ts";
import { decodeHandshake, encodeHandshake, MAX_KERNEL_MESSAGE, PROTOCOL_VERSION } from "./wire.ts";
import { withTimeout } from "../../runtime/timeout.ts";

export class HandshakeError extends Error {
  override name = "HandshakeError";
}

export interface Us {
  name: string;
  keys: NodeKeys;
}

/** The registered networking key of a node, or null if the registry does not know it. */
export type KeyLookup = (name: string) => Uint8Array | null;

function ourPayload(us: Us, hs: HandshakeState, proxy = false): Uint8Array {
  return encodeHandshake({
    protocol_version: PROTOCOL_VERSION,
    name: us.name,
    signature: sign(us.keys, hs.staticPublicKey),
    proxy_request: proxy,
  });
}

function checkPayload(bytes: Uint8Array, hs: HandshakeState, lookup: KeyLookup, expected?: string): string {
  let p;
  try {
    p = decodeHandshake(bytes);
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
  return p.name;
}

export async function initiate(
  ch: FrameChannel,
  us: Us,
  peer: string,
  lookup: KeyLookup,
  timeoutMs: number,
): Promise<Link> {
  return await withTimeout(
    (async () => {
      const hs = new HandshakeState({ initiator: true });
      await ch.send([hs.writeMessage(new Uint8Array())]);
      checkPayload(hs.readMessage(await ch.recv()), hs, lookup, peer);
      await ch.send([hs.writeMessage(ourPayload(us, hs))]);
      const [out, inn] = hs.split();
      return new Link(ch, peer, out, inn, true);
    })(),
    timeoutMs,
    () => new HandshakeError(`handshake with ${peer} timed out`),
  );
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
      const hs = new HandshakeState({ initiator: false });
      hs.readMessage(first);
      await ch.send([hs.writeMessage(ourPayload(us, hs))]);
      const peer = checkPayload(hs.readMessage(await ch.recv()), hs, lookup);
      const [inn, out] = hs.split();
      return new Link(ch, peer, out, inn, false);
    })(),
    timeoutMs,
    () => new HandshakeError("inbound handshake timed out"),
  );
}

/** Plaintext bytes per encrypted piece: a Noise message is at most 65535 bytes, 16 of them the tag. */
const PIECE = 65519;

/** An established, encrypted link to one peer. */
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
  ) {}

  get transport() {
    return this.ch.transport;
  }

  /**
   * Sends one serialized KernelMessage, given as parts to concatenate: a
   * 4-byte big-endian length, then the bytes, cut into pieces of at most
   * 65519 bytes, each encrypted. Pieces inside one part are not copied.
   * Sends are serialized so nonces and frames stay in order.
   */
  send(message: Uint8Array | Uint8Array[]): Promise<void> {
    const parts = Array.isArray(message) ? message : [message];
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (total > MAX_KERNEL_MESSAGE) {
      return Promise.reject(new RangeError(`message of ${total} bytes is over the ${MAX_KERNEL_MESSAGE} limit`));
    }
    this.sending = this.sending.then(() => {
      const head = new Uint8Array(4);
      new DataView(head.buffer).setUint32(0, total);
      const frames = pieces([head, ...parts], PIECE).map((p) => this.out.encrypt(p));
      this.bytesOut += total;
      this.messagesOut++;
      this.lastActive = Date.now();
      return this.ch.send(frames);
    });
    return this.sending;
  }

  /** The next serialized KernelMessage. Any failure means the link must close. */
  async recv(): Promise<Uint8Array> {
    const p0 = this.inn.decrypt(await this.ch.recvView());
    if (p0.length < 4) throw new LinkClosed("message piece too short");
    const len = new DataView(p0.buffer, p0.byteOffset).getUint32(0);
    if (len > MAX_KERNEL_MESSAGE) throw new LinkClosed(`peer announced a ${len}-byte message, over the limit`);
    const out = new Uint8Array(len);
    let o = Math.min(p0.length - 4, len);
    if (p0.length - 4 > len) throw new LinkClosed("message piece longer than announced");
    out.set(p0.subarray(4, 4 + o));
    while (o < len) {
      const p = this.inn.decrypt(await this.ch.recvView());
      if (o + p.length > len) throw new LinkClosed("message longer than announced");
      out.set(p, o);
      o += p.length;
    }
    this.bytesIn += len;
    this.messagesIn++;
    this.lastActive = Date.now();
    return out;
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
