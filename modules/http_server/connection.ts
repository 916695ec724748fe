/**
 * One HTTP connection on the node's guarded listener: requests read by our
 * own HTTP/1 reader (every size bounded while it arrives), each answered
 * directly when it can be (bound paths: bound.ts), else handed to the Hono
 * app as a web Request whose body streams from the socket, the answer written
 * back; kept alive between requests. An upgrade to a bound WebSocket
 * path leaves the loop for the socket's own.
 *
 * The slot stays pending (deadline, evictable) until a request head is in;
 * between requests it is idle: pending again, first to be evicted, closed
 * after IDLE_MS. A request whose body was not read to its end closes the
 * connection after its answer (lingering briefly so the client sees it).
 */
import type { Slot } from "../../runtime/sockets/listener.ts";
import {
  ConnEnded,
  ConnReader,
  HttpError,
  readHead,
  type RequestHead,
  responseBytes,
  writeAll,
} from "../../runtime/sockets/http1.ts";
import {
  type Answer,
  answerBytes,
  type BodyReader,
  bodyReader,
  writeResponse,
} from "../../runtime/sockets/http1_stream.ts";
import { isUpgrade } from "../../runtime/sockets/websocket.ts";
import { type Target, targetOf } from "./target.ts";

/** How long a kept-alive connection may wait for its next request. */
export const IDLE_MS = 5_000;
/** After refusing a request whose body is still arriving, read and drop it this long so the client sees the answer. */
const LINGER_MS = 2000;
const MAX_REQUESTS_PER_CONNECTION = 100_000;

/** What each request carries besides itself: where it came from and its connection. */
export interface ConnEnv {
  peer: Deno.NetAddr;
  slot: Slot;
  r: ConnReader;
  head: RequestHead;
  /** The URL it asks for. */
  target: Target;
  body: BodyReader | null;
  /** Set by a handler that took the connection over (a WebSocket). */
  upgraded: boolean;
}

/** A web Response (streamed bodies, Hono's answers) or a whole answer written in one go. */
export type Reply = Response | Answer;

export interface ConnHandlers {
  /** The answer without a web Request, or null to hand the request to fetch. */
  direct?(env: ConnEnv): Promise<Reply> | null;
  fetch(req: Request, env: ConnEnv): Response | Promise<Response>;
  log(verbosity: number, text: string): void;
}

export async function serveConnection(slot: Slot, h: ConnHandlers, pendingTimeoutMs: number) {
  // Answers go out as they are written: Nagle's wait for an ACK costs a kept-alive client ~40 ms a request.
  slot.conn.setNoDelay(true);
  const r = new ConnReader(slot.conn, () => slot.heard = true);
  const peer = slot.conn.remoteAddr as Deno.NetAddr;
  for (let n = 0; n < MAX_REQUESTS_PER_CONNECTION; n++) {
    let head: RequestHead;
    let env: ConnEnv | null = null;
    let res: Reply;
    let keepAlive = false;
    try {
      head = await readHead(r);
      // The head is in: the whole request now gets the listener's full deadline.
      if (n > 0) slot.deadline(pendingTimeoutMs);
      const body = isUpgrade(head) ? null : bodyReader(r, head, () => writeAll(slot.conn, responseBytes(100, {})));
      env = { peer, slot, r, head, target: targetOf(head, peer), body, upgraded: false };
      keepAlive = wantsKeepAlive(head);
      res = await (h.direct?.(env) ?? h.fetch(toRequest(env), env));
      if (env.upgraded) return;
    } catch (e) {
      if (e instanceof ConnEnded) return slot.close();
      if (!(e instanceof HttpError)) h.log(0, `http: ${(e as Error).stack ?? e}`);
      else h.log(1, `http: ${e.status} to ${slot.remote}: ${e.message}`);
      res = errorResponse(e);
      keepAlive = false;
    }
    const bodyDone = env?.body ? env.body.done : env !== null;
    const reuse = keepAlive && bodyDone;
    slot.proven();
    try {
      const opts = { keepAlive: reuse, head: env?.head.method === "HEAD" };
      if (res instanceof Response) await writeResponse(slot.conn, res, opts);
      else await writeAll(slot.conn, answerBytes(res, opts));
    } catch {
      return slot.close();
    }
    if (!reuse) {
      if (!bodyDone) await drain(slot);
      return slot.close();
    }
    slot.idle(IDLE_MS);
  }
  slot.close();
}

export function errorResponse(e: unknown): Response {
  const status = e instanceof HttpError ? e.status : 500;
  const message = e instanceof HttpError ? e.message : "internal error";
  return Response.json({ error: message }, { status });
}

function wantsKeepAlive(head: RequestHead): boolean {
  const c = head.headers.get("connection")?.toLowerCase() ?? "";
  if (/\bclose\b/.test(c)) return false;
  return head.version === "1.1" || /\bkeep-alive\b/.test(c);
}

function toRequest({ head, target, body }: ConnEnv): Request {
  const hasBody = body?.stream && head.method !== "GET" && head.method !== "HEAD";
  return new Request(target.href, {
    method: head.method,
    headers: head.headers,
    body: hasBody ? body.stream : null,
    // @ts-ignore: Deno's RequestInit takes `duplex` for streamed bodies.
    duplex: "half",
  });
}

/** Reads and drops what the client still sends, for a moment, so closing does not reset the answer away. */
async function drain(slot: Slot) {
  try {
    slot.conn.closeWrite();
  } catch { /* gone */ }
  const timer = setTimeout(() => slot.close(), LINGER_MS);
  const scratch = new Uint8Array(64 * 1024);
  try {
    while (await slot.conn.read(scratch) !== null);
  } catch { /* closed */ }
  clearTimeout(timer);
}
