/**
 * http-server:distro:sys, first part: the node's HTTP listener. It serves
 * /our and /our.js, and the local-only endpoints that `inject-message` and
 * `start-package` use. The full module (bound paths, WebSockets) grows here.
 *
 * It runs on the node's guarded accept loop (modules/net/listener.ts) and
 * reads requests itself (http1.ts), so connection caps, deadlines and the
 * body limit hold from the first byte; local_only.ts decides who may call
 * the local endpoints.
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { parseAddress, ParseError, parseProcessId, type SendError, utf8 } from "../../runtime/types.ts";
import { decodeBase64, encodeBase64 } from "../../runtime/bytes.ts";
import { guardedListen, GuardedListener, type ListenerLimits, type Slot } from "../../runtime/sockets/listener.ts";
import {
  ConnEnded,
  ConnReader,
  HttpError,
  readBody,
  readHead,
  responseBytes,
  writeAll,
} from "../../runtime/sockets/http1.ts";
import { checkJsonShape, checkLocalCaller } from "./local_only.ts";
import { HTTP_SERVER } from "../../runtime/api/processes.ts";

/** The largest request body the local endpoints accept: room for a real package's files, base64-encoded. */
export const MAX_BODY = 64 * 1024 * 1024;
/**
 * The HTTP port serves the local CLI and a browser or two: few connections,
 * each of which must send its whole request within the deadline.
 */
export const HTTP_LIMITS: ListenerLimits = {
  label: "http",
  maxConnections: 64,
  maxPending: 64,
  pendingTimeoutMs: 30_000,
};
/** After refusing a request whose body is still arriving, read and drop it this long so the client sees the answer. */
const LINGER_MS = 2000;

export interface Installer {
  (packageId: string, files: Record<string, Uint8Array>): unknown;
}

interface Answer {
  status: number;
  body: Uint8Array;
  type: string;
}

export class HttpServerModule implements RuntimeModule {
  readonly process = HTTP_SERVER;
  readonly public = false;
  private listener: GuardedListener | null = null;
  port = 0;

  constructor(private k: KernelHandle, private install: Installer) {}

  listen(port: number, hostname = "127.0.0.1"): Promise<number> {
    this.listener = guardedListen(
      port,
      HTTP_LIMITS,
      (slot) => this.connection(slot),
      (v, t) => this.k.print(v, t),
      hostname,
    );
    this.port = this.listener.port;
    return Promise.resolve(this.port);
  }

  /** Connections refused or evicted so far (for tests and diagnostics). */
  get refused(): number {
    return this.listener?.refused ?? 0;
  }

  /** One request per connection, then close. */
  private async connection(slot: Slot) {
    const r = new ConnReader(slot.conn, () => slot.heard = true);
    let answer: Answer;
    let linger = false;
    try {
      answer = await this.serve(r, slot);
    } catch (e) {
      if (e instanceof ConnEnded) return slot.close();
      if (e instanceof HttpError) {
        this.k.print(1, `http: ${e.status} to ${slot.remote}: ${e.message}`);
        answer = json({ error: e.message }, e.status);
      } else {
        this.k.print(0, `http: ${(e as Error).stack ?? e}`);
        answer = json({ error: "internal error" }, 500);
      }
      linger = true;
    }
    try {
      await writeAll(
        slot.conn,
        responseBytes(answer.status, { "content-type": answer.type, connection: "close" }, answer.body),
      );
      if (linger) await this.drain(slot);
    } catch { /* the client left */ }
    slot.close();
  }

  /** Reads and drops what the client still sends, for a moment, so closing does not reset the answer away. */
  private async drain(slot: Slot) {
    slot.conn.closeWrite();
    const timer = setTimeout(() => slot.close(), LINGER_MS);
    const scratch = new Uint8Array(64 * 1024);
    try {
      while (await slot.conn.read(scratch) !== null);
    } catch { /* closed */ }
    clearTimeout(timer);
  }

  private async serve(r: ConnReader, slot: Slot): Promise<Answer> {
    const head = await readHead(r);
    const url = new URL(head.target, "http://127.0.0.1");
    if (head.method === "GET" && url.pathname === "/our") return text(this.k.our, "text/plain;charset=UTF-8");
    if (head.method === "GET" && url.pathname === "/our.js") {
      return text(`window.our = {};\nwindow.our.node = ${JSON.stringify(this.k.our)};\n`, "application/javascript");
    }
    if (!url.pathname.startsWith("/rpc:distro:sys/")) throw new HttpError(404, `nothing at ${url.pathname}`);
    const host = (slot.conn.remoteAddr as Deno.NetAddr).hostname;
    if (host !== "127.0.0.1" && host !== "::1" && host !== "::ffff:127.0.0.1") {
      throw new HttpError(403, "this endpoint answers only on localhost");
    }
    if (head.method !== "POST") throw new HttpError(405, "use POST");
    checkLocalCaller(head.headers, this.port);
    const bytes = await readBody(r, head, MAX_BODY, () => writeAll(slot.conn, responseBytes(100, {})));
    // The whole request is in: from here on the connection waits for us, not the other way round.
    slot.proven();
    let body: Record<string, unknown>;
    try {
      checkJsonShape(bytes);
      body = JSON.parse(new TextDecoder().decode(bytes));
      if (!body || typeof body !== "object" || Array.isArray(body)) throw new ParseError("expected a JSON object");
    } catch (e) {
      throw new HttpError(400, `bad JSON: ${(e as Error).message}`);
    }
    try {
      if (url.pathname === "/rpc:distro:sys/message") return await this.inject(body);
      if (url.pathname === "/rpc:distro:sys/install") return await this.installFrom(body);
    } catch (e) {
      if (e instanceof ParseError) throw new HttpError(400, e.message);
      throw e;
    }
    throw new HttpError(404, `nothing at ${url.pathname}`);
  }

  /**
   * POST /rpc:distro:sys/message
   * {"process": "p:pkg:pub", "node": null, "body": "<text>", "blob": base64|null,
   *  "mime": null, "expects_response": seconds|null}
   * → {"body": "<text>", "blob": base64|null, "mime": ...} or {"error": "Offline"|"Timeout"|...}
   */
  private async inject(b: Record<string, unknown>): Promise<Answer> {
    if (typeof b.process !== "string") throw new ParseError("process must be a process id string");
    parseProcessId(b.process);
    const node = typeof b.node === "string" && b.node ? b.node : this.k.our;
    const target = `${node}@${b.process}`;
    parseAddress(target);
    if (typeof b.body !== "string") throw new ParseError("body must be a string");
    const expects = b.expects_response == null ? null : Number(b.expects_response);
    if (expects !== null && !(expects > 0)) throw new ParseError("expects_response must be seconds > 0 or null");
    const blob = typeof b.blob === "string"
      ? { mime: typeof b.mime === "string" ? b.mime : null, bytes: decodeBase64(b.blob) }
      : null;
    if (expects === null) {
      const message = {
        Request: { inherit: false, expects_response: null, body: utf8(b.body), metadata: null, capabilities: [] },
      };
      this.k.send(this.process, { target, message, blob });
      return json({ sent: true });
    }
    const reply = this.k.request(this.process, { target, body: utf8(b.body), blob, timeoutSeconds: expects });
    try {
      const km = await reply;
      const inner = "Response" in km.message ? km.message.Response[0] : km.message.Request;
      return json({
        body: new TextDecoder().decode(inner.body),
        blob: km.lazy_load_blob ? encodeBase64(km.lazy_load_blob.bytes) : null,
        mime: km.lazy_load_blob?.mime ?? null,
      });
    } catch (e) {
      const kind = (e as SendError).kind;
      return json({ error: kind, target }, kind === "Timeout" ? 504 : 502);
    }
  }

  /** POST /rpc:distro:sys/install {"package_id": "pkg:pub", "files": {"manifest.json": base64, ...}} */
  private async installFrom(b: Record<string, unknown>): Promise<Answer> {
    if (typeof b.package_id !== "string") throw new ParseError("package_id must be a string");
    if (!b.files || typeof b.files !== "object") throw new ParseError("files must be an object of base64 strings");
    const files: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(b.files as Record<string, unknown>)) {
      if (typeof v !== "string") throw new ParseError(`file ${k} must be base64`);
      files[k] = decodeBase64(v);
    }
    return json(await this.install(b.package_id, files));
  }

  /** Answers to the requests it forwards come back through KernelHandle.request; nothing else is for it. */
  handle() {}

  shutdown() {
    this.listener?.close();
  }
}

function json(v: unknown, status = 200): Answer {
  return { status, body: utf8(JSON.stringify(v)), type: "application/json" };
}

function text(t: string, type: string): Answer {
  return { status: 200, body: utf8(t), type };
}
