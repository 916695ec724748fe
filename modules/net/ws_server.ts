/**
 * The server side of the WebSocket transport (RFC 6455), on a connection our
 * own accept loop took, so the listener's table and deadlines cover it from
 * the first byte. Only what the protocol uses: Binary messages of at most
 * 65535 bytes, ping answered with pong, close. No extensions are agreed.
 */
import { encodeBase64, joinBytes } from "../../runtime/bytes.ts";
import { ConnEnded, ConnReader, HttpError, readHead, responseBytes, writeAll } from "../../runtime/sockets/http1.ts";
import { type FrameChannel, LinkClosed, MAX_FRAME, QueuedConn } from "./frames.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa };

/** Reads the upgrade request and answers it; a request that is no WebSocket upgrade is answered and refused. */
export async function acceptWebSocket(
  conn: Deno.TcpConn,
  onFirstByte: () => void,
  onClose: () => void,
): Promise<WsServerFrames> {
  const r = new ConnReader(conn, onFirstByte);
  const refuse = async (status: number, text: string): Promise<never> => {
    await writeAll(conn, responseBytes(status, { "content-type": "text/plain", connection: "close" }, enc(text)))
      .catch(() => {});
    throw new LinkClosed(`not a WebSocket upgrade: ${text}`);
  };
  let head;
  try {
    head = await readHead(r);
  } catch (e) {
    if (e instanceof HttpError) return await refuse(e.status, e.message);
    throw new LinkClosed((e as Error).message);
  }
  const h = head.headers;
  if (
    head.method !== "GET" || h.get("upgrade")?.toLowerCase() !== "websocket" ||
    !/(^|,)\s*upgrade\s*(,|$)/i.test(h.get("connection") ?? "")
  ) {
    return await refuse(426, "hyperdeno net: WebSocket only");
  }
  const key = h.get("sec-websocket-key");
  if (!key || h.get("sec-websocket-version") !== "13") return await refuse(400, "need Sec-WebSocket-Key, version 13");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", enc(key + GUID)));
  await writeAll(
    conn,
    responseBytes(101, {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-accept": encodeBase64(digest),
    }),
  );
  const a = conn.remoteAddr as Deno.NetAddr;
  return new WsServerFrames(conn, r, `ws:${a.hostname}:${a.port}`, onClose);
}

function enc(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s);
}

export class WsServerFrames extends QueuedConn implements FrameChannel {
  readonly transport = "ws";

  constructor(conn: Deno.TcpConn, private r: ConnReader, readonly remote: string, onClose: () => void) {
    super(conn, onClose);
  }

  async recv(): Promise<Uint8Array> {
    return (await this.recvView()).slice();
  }

  /** The next Binary message (reassembled if fragmented); control frames are handled on the way. */
  async recvView(): Promise<Uint8Array> {
    let parts: Uint8Array[] | null = null;
    let total = 0;
    while (true) {
      const { fin, opcode, payload } = await this.frame();
      if (opcode === OP.close) {
        await this.control(OP.close, new Uint8Array()).catch(() => {});
        this.close();
        throw new LinkClosed("websocket closed");
      }
      if (opcode === OP.ping) {
        await this.control(OP.pong, payload.slice());
        continue;
      }
      if (opcode === OP.pong) continue;
      if (opcode === OP.text) throw this.fail("text frame on a binary protocol");
      if (opcode !== OP.binary && opcode !== OP.continuation) throw this.fail(`unknown opcode ${opcode}`);
      if ((opcode === OP.binary) === (parts !== null)) throw this.fail("bad fragmentation");
      if (fin && !parts) return payload;
      parts ??= [];
      total += payload.length;
      if (total > MAX_FRAME) throw this.fail("message over 65535 bytes");
      parts.push(payload.slice());
      if (fin) return joinBytes(parts);
    }
  }

  private async frame(): Promise<{ fin: boolean; opcode: number; payload: Uint8Array }> {
    try {
      await this.r.fill(2);
      const [b0, b1] = this.r.take(2);
      if (b0 & 0x70) throw this.fail("reserved bits set, but no extension was agreed");
      if (!(b1 & 0x80)) throw this.fail("a client frame must be masked");
      const opcode = b0 & 0x0f, fin = (b0 & 0x80) !== 0;
      let len = b1 & 0x7f;
      if (len === 126) {
        await this.r.fill(2);
        const v = this.r.take(2);
        len = (v[0] << 8) | v[1];
      } else if (len === 127) {
        await this.r.fill(8);
        const v = this.r.take(8);
        len = v.slice(0, 5).some((b) => b) ? Infinity : (v[5] << 16) | (v[6] << 8) | v[7];
      }
      if (len > MAX_FRAME) throw this.fail("frame over 65535 bytes");
      if (opcode & 0x8 && (!fin || len > 125)) throw this.fail("bad control frame");
      await this.r.fill(4 + len);
      const mask = this.r.take(4).slice();
      const payload = this.r.take(len);
      for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
      return { fin, opcode, payload };
    } catch (e) {
      if (e instanceof ConnEnded) throw new LinkClosed(e.message);
      throw e;
    }
  }

  private fail(why: string): LinkClosed {
    this.close();
    return new LinkClosed(why);
  }

  recvLength(): Promise<number> {
    return Promise.reject(new LinkClosed("a WebSocket message carries its length inside"));
  }

  send(frames: Uint8Array[], head?: Uint8Array): Promise<void> {
    if (head) return Promise.reject(new RangeError("a WebSocket message carries its length inside"));
    if (this.closed) return Promise.reject(new LinkClosed("websocket closed"));
    let size = 0;
    for (const f of frames) {
      if (f.length > MAX_FRAME) throw new RangeError("frame over 65535 bytes");
      size += (f.length < 126 ? 2 : 4) + f.length;
    }
    const out = new Uint8Array(size);
    let o = 0;
    for (const f of frames) o = putFrame(out, o, OP.binary, f);
    return this.write(out);
  }

  private control(opcode: number, payload: Uint8Array): Promise<void> {
    const out = new Uint8Array(2 + payload.length);
    putFrame(out, 0, opcode, payload);
    return this.write(out);
  }
}

/** Writes one unmasked server frame at `o`; returns the offset after it. */
function putFrame(out: Uint8Array, o: number, opcode: number, f: Uint8Array): number {
  out[o++] = 0x80 | opcode;
  if (f.length < 126) out[o++] = f.length;
  else {
    out[o++] = 126;
    out[o++] = f.length >> 8;
    out[o++] = f.length & 0xff;
  }
  out.set(f, o);
  return o + f.length;
}
