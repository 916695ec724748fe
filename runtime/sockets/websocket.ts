/**
 * A server-side WebSocket (RFC 6455) for browsers and other clients on a
 * connection the node's own HTTP reader upgraded: Text, Binary, Ping, Pong,
 * Close, fragmented messages, no extensions. Both directions are bounded: a
 * message over `maxMessage` closes with 1009, and a client that stops reading
 * while we push closes once `maxBuffered` bytes wait for it (1008), so a slow
 * or hostile client costs at most that much memory.
 */
import { joinBytes } from "../bytes.ts";
import { ConnEnded, type ConnReader, type RequestHead, writeAll } from "./http1.ts";
import { answerUpgrade, FrameRefused, OP, putServerFrame, readClientFrame, serverFrameSize } from "./ws_frames.ts";

export type WsKind = "Text" | "Binary" | "Ping" | "Pong" | "Close";

export interface WsLimits {
  maxMessage: number;
  maxBuffered: number;
}

/** Whether `head` asks to become a WebSocket. */
export function isUpgrade(head: RequestHead): boolean {
  return head.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Why an upgrade request is not one we can accept, or null. */
export function upgradeProblem(head: RequestHead): string | null {
  const h = head.headers;
  if (head.method !== "GET") return "a WebSocket upgrade must be a GET";
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(h.get("connection") ?? "")) return "Connection: Upgrade is missing";
  const key = h.get("sec-websocket-key");
  if (!key || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return "Sec-WebSocket-Key is missing or malformed";
  if (h.get("sec-websocket-version") !== "13") return "only Sec-WebSocket-Version 13 is spoken";
  return null;
}

/** Answers the upgrade (101) and returns the open socket. */
export async function acceptUpgrade(
  conn: Deno.Conn,
  r: ConnReader,
  head: RequestHead,
  limits: WsLimits,
): Promise<ServerWebSocket> {
  await answerUpgrade(conn, head.headers.get("sec-websocket-key")!);
  return new ServerWebSocket(conn, r, limits);
}

export class WsClosed extends Error {
  override name = "WsClosed";
  constructor(readonly code: number, reason: string) {
    super(reason);
  }
}

export class ServerWebSocket {
  private queue: Uint8Array[] = [];
  /** Bytes accepted by send() and not yet written to the connection. */
  buffered = 0;
  private writing = false;
  closed = false;
  private closeSent = false;
  private closeTimer: ReturnType<typeof setTimeout> | undefined;
  private ended!: () => void;
  /** Settles once the connection is closed for good (after the close frame went out, or at once on abort). */
  readonly finished = new Promise<void>((r) => this.ended = r);

  constructor(private conn: Deno.Conn, private r: ConnReader, readonly limits: WsLimits) {}

  /** Messages from the client until it closes; ping is answered by the reader. Ends on close, throws nothing. */
  async *messages(): AsyncGenerator<{ kind: WsKind; data: Uint8Array }> {
    let parts: Uint8Array[] | null = null;
    let kind: "Text" | "Binary" = "Binary";
    let total = 0;
    try {
      while (!this.closed) {
        const { fin, opcode, payload } = await this.frame();
        if (opcode === OP.close) {
          const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
          this.close(code === 1005 ? 1000 : code, "");
          return;
        }
        if (opcode === OP.ping) {
          this.enqueue(frameBytes(OP.pong, payload));
          yield { kind: "Ping", data: payload.slice() };
          continue;
        }
        if (opcode === OP.pong) {
          yield { kind: "Pong", data: payload.slice() };
          continue;
        }
        if (opcode !== OP.text && opcode !== OP.binary && opcode !== OP.continuation) {
          throw new WsClosed(1002, `unknown opcode ${opcode}`);
        }
        if ((opcode === OP.continuation) !== (parts !== null)) throw new WsClosed(1002, "bad fragmentation");
        if (opcode !== OP.continuation) {
          kind = opcode === OP.text ? "Text" : "Binary";
          parts = [];
          total = 0;
        }
        total += payload.length;
        if (total > this.limits.maxMessage) throw new WsClosed(1009, `message over ${this.limits.maxMessage} bytes`);
        parts!.push(payload.slice());
        if (!fin) continue;
        const data = parts!.length === 1 ? parts![0] : joinBytes(parts!);
        parts = null;
        if (kind === "Text") {
          try {
            new TextDecoder("utf-8", { fatal: true }).decode(data);
          } catch {
            throw new WsClosed(1007, "text message is not UTF-8");
          }
        }
        yield { kind, data };
      }
    } catch (e) {
      // 1006 means the connection is already gone: there is nobody to send a close frame to.
      if (e instanceof WsClosed && e.code !== 1006) this.close(e.code, e.message);
      else this.abort();
    }
  }

  private async frame(): Promise<{ fin: boolean; opcode: number; payload: Uint8Array }> {
    try {
      return await readClientFrame(this.r, this.limits.maxMessage);
    } catch (e) {
      if (e instanceof FrameRefused) throw new WsClosed(e.code, e.message);
      if (e instanceof ConnEnded) throw new WsClosed(1006, e.message);
      throw e;
    }
  }

  /** Queues a message; returns false (and closes with 1008) when the client has left too much unread. */
  send(kind: WsKind, data: Uint8Array): boolean {
    if (this.closed) return false;
    if (kind === "Close") {
      this.close(1000, "");
      return true;
    }
    if ((kind === "Ping" || kind === "Pong") && data.length > 125) data = data.subarray(0, 125);
    const op = { Text: OP.text, Binary: OP.binary, Ping: OP.ping, Pong: OP.pong }[kind];
    if (this.buffered + data.length > this.limits.maxBuffered) {
      this.close(1008, `client left more than ${this.limits.maxBuffered} bytes unread`);
      return false;
    }
    this.enqueue(frameBytes(op, data));
    return true;
  }

  private enqueue(bytes: Uint8Array) {
    this.queue.push(bytes);
    this.buffered += bytes.length;
    if (!this.writing) this.flush();
  }

  private async flush() {
    this.writing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.length === 1 ? this.queue[0] : joinBytes(this.queue);
        this.queue = [];
        await writeAll(this.conn, batch);
        this.buffered -= batch.length;
      }
      // The close frame is out: the connection can end now rather than at the timer.
      if (this.closeSent) this.abort();
    } catch {
      this.abort();
    } finally {
      this.writing = false;
    }
  }

  /** Sends a close frame (once) and ends the connection shortly after. */
  close(code = 1000, reason = "") {
    if (this.closed) return;
    this.closed = true;
    if (!this.closeSent) {
      this.closeSent = true;
      const why = new TextEncoder().encode(reason).subarray(0, 123);
      const payload = new Uint8Array(2 + why.length);
      payload[0] = code >> 8;
      payload[1] = code & 0xff;
      payload.set(why, 2);
      // Past the buffer limit the queue is not worth waiting for: the close goes alone.
      if (code === 1008) this.queue = [];
      this.queue.push(frameBytes(OP.close, payload));
      if (!this.writing) this.flush();
    }
    this.closeTimer = setTimeout(() => this.abort(), 1000);
  }

  /** Ends the connection at once. */
  abort() {
    this.closed = true;
    clearTimeout(this.closeTimer);
    try {
      this.conn.close();
    } catch { /* already closed */ }
    this.ended();
  }
}

function frameBytes(opcode: number, f: Uint8Array): Uint8Array {
  const out = new Uint8Array(serverFrameSize(f.length));
  putServerFrame(out, 0, opcode, f);
  return out;
}
