/**
 * The server side of the WebSocket transport (RFC 6455), on a connection our
 * own accept loop took, so the listener's table and deadlines cover it from
 * the first byte. Only what the protocol uses: Binary messages of at most
 * 65535 bytes, ping answered with pong, close. No extensions are agreed.
 */
import { joinBytes } from "../../runtime/bytes.ts";
import { ConnEnded, ConnReader, HttpError, readHead, responseBytes, writeAll } from "../../runtime/sockets/http1.ts";
import {
  answerUpgrade,
  FrameRefused,
  OP,
  putServerFrame,
  readClientFrame,
  serverFrameSize,
} from "../../runtime/sockets/ws_frames.ts";
import { type FrameChannel, LinkClosed, MAX_FRAME, QueuedConn } from "./frames.ts";

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
  await answerUpgrade(conn, key);
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
      return await readClientFrame(this.r, MAX_FRAME);
    } catch (e) {
      if (e instanceof FrameRefused) throw this.fail(e.message);
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
      size += serverFrameSize(f.length);
    }
    const out = new Uint8Array(size);
    let o = 0;
    for (const f of frames) o = putServerFrame(out, o, OP.binary, f);
    return this.write(out);
  }

  private control(opcode: number, payload: Uint8Array): Promise<void> {
    const out = new Uint8Array(serverFrameSize(payload.length));
    putServerFrame(out, 0, opcode, payload);
    return this.write(out);
  }
}
