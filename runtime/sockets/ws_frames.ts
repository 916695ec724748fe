/**
 * RFC 6455 framing as a server speaks it, shared by the two servers that take
 * WebSocket connections: http-server's (browsers, any message) and net's (the
 * node-to-node transport, Binary frames of at most 65535 bytes). Each maps a
 * refused frame to its own way of closing.
 */
import { encodeBase64 } from "../bytes.ts";
import type { ConnReader } from "./http1.ts";
import { responseBytes, writeAll } from "./http1.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** A client frame that breaks the protocol (1002) or is over the limit (1009): the connection must close. */
export class FrameRefused extends Error {
  override name = "FrameRefused";
  constructor(readonly code: 1002 | 1009, why: string) {
    super(why);
  }
}

export interface ClientFrame {
  fin: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** Answers a WebSocket upgrade whose Sec-WebSocket-Key is `key` with 101 Switching Protocols. */
export async function answerUpgrade(conn: Deno.Conn, key: string) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID)));
  await writeAll(
    conn,
    responseBytes(101, { upgrade: "websocket", connection: "Upgrade", "sec-websocket-accept": encodeBase64(digest) }),
  );
}

/**
 * The next client frame, unmasked, of at most `maxLen` payload bytes. Throws
 * FrameRefused for a frame that breaks the protocol, and lets the reader's
 * ConnEnded through when the connection ends.
 */
export async function readClientFrame(r: ConnReader, maxLen: number): Promise<ClientFrame> {
  await r.fill(2);
  const [b0, b1] = r.take(2);
  if (b0 & 0x70) throw new FrameRefused(1002, "reserved bits set, but no extension was agreed");
  if (!(b1 & 0x80)) throw new FrameRefused(1002, "a client frame must be masked");
  const opcode = b0 & 0x0f, fin = (b0 & 0x80) !== 0;
  let len = b1 & 0x7f;
  if (len === 126) {
    await r.fill(2);
    const v = r.take(2);
    len = (v[0] << 8) | v[1];
  } else if (len === 127) {
    await r.fill(8);
    const v = r.take(8);
    len = v.slice(0, 4).some((b) => b) ? Infinity : ((v[4] * 2 ** 24) + ((v[5] << 16) | (v[6] << 8) | v[7]));
  }
  if (opcode & 0x8 && (!fin || len > 125)) throw new FrameRefused(1002, "bad control frame");
  if (len > maxLen) throw new FrameRefused(1009, `frame over ${maxLen} bytes`);
  await r.fill(4 + len);
  const mask = r.take(4).slice();
  const payload = r.take(len);
  for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
  return { fin, opcode, payload };
}

/** Bytes an unmasked server frame of `n` payload bytes takes. */
export function serverFrameSize(n: number): number {
  return (n < 126 ? 2 : n < 65536 ? 4 : 10) + n;
}

/** Writes one unmasked server frame into `out` at `o`; returns the offset after it. */
export function putServerFrame(out: Uint8Array, o: number, opcode: number, f: Uint8Array): number {
  const n = f.length;
  out[o++] = 0x80 | opcode;
  if (n < 126) out[o++] = n;
  else if (n < 65536) {
    out[o++] = 126;
    out[o++] = n >> 8;
    out[o++] = n & 0xff;
  } else {
    out[o++] = 127;
    new DataView(out.buffer, out.byteOffset).setBigUint64(o, BigInt(n));
    o += 8;
  }
  out.set(f, o);
  return o + n;
}
