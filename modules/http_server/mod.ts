/**
 * http-server:distro:sys, first part: the node's HTTP listener. It serves
 * /our and /our.js, and the local-only endpoints that `inject-message` and
 * `start-package` use. The full module (bound paths, WebSockets) grows here.
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import {
  type KernelMessage,
  parseAddress,
  ParseError,
  parseProcessId,
  type SendError,
  utf8,
} from "../../runtime/types.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";

export const HTTP_SERVER = "http-server:distro:sys";
/** The largest request body the local endpoints accept. */
const MAX_BODY = 256 * 1024 * 1024;

export interface Installer {
  (packageId: string, files: Record<string, Uint8Array>): unknown;
}

export class HttpServerModule implements RuntimeModule {
  readonly process = HTTP_SERVER;
  readonly public = false;
  private server: Deno.HttpServer | null = null;
  private waiting = new Map<number, { resolve(km: KernelMessage): void; reject(e: SendError): void }>();
  port = 0;

  constructor(private k: KernelHandle, private install: Installer) {}

  async listen(port: number, hostname = "127.0.0.1"): Promise<number> {
    const ready = Promise.withResolvers<number>();
    this.server = Deno.serve({
      port,
      hostname,
      onListen: (addr) => ready.resolve((addr as Deno.NetAddr).port),
      onError: (e) => {
        this.k.print(1, `http: ${(e as Error).message}`);
        return json({ error: "internal error" }, 500);
      },
    }, (req, info) => this.serve(req, info));
    this.port = await ready.promise;
    return this.port;
  }

  private async serve(req: Request, info: Deno.ServeHandlerInfo): Promise<Response> {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/our") return new Response(this.k.our);
    if (req.method === "GET" && url.pathname === "/our.js") {
      return new Response(`window.our = {};\nwindow.our.node = ${JSON.stringify(this.k.our)};\n`, {
        headers: { "content-type": "application/javascript" },
      });
    }
    if (url.pathname.startsWith("/rpc:distro:sys/")) {
      const host = (info.remoteAddr as Deno.NetAddr).hostname;
      if (host !== "127.0.0.1" && host !== "::1" && host !== "::ffff:127.0.0.1") {
        return json({ error: "this endpoint answers only on localhost" }, 403);
      }
      if (req.method !== "POST") return json({ error: "use POST" }, 405);
      const len = Number(req.headers.get("content-length") ?? "0");
      if (len > MAX_BODY) return json({ error: `request body over ${MAX_BODY} bytes` }, 413);
      let body: Record<string, unknown>;
      try {
        body = await req.json();
        if (!body || typeof body !== "object") throw new ParseError("expected a JSON object");
      } catch (e) {
        return json({ error: `bad JSON: ${(e as Error).message}` }, 400);
      }
      try {
        if (url.pathname === "/rpc:distro:sys/message") return await this.inject(body);
        if (url.pathname === "/rpc:distro:sys/install") return await this.installFrom(body);
      } catch (e) {
        if (e instanceof ParseError) return json({ error: e.message }, 400);
        throw e;
      }
    }
    return json({ error: `nothing at ${url.pathname}` }, 404);
  }

  /**
   * POST /rpc:distro:sys/message
   * {"process": "p:pkg:pub", "node": null, "body": "<text>", "blob": base64|null,
   *  "mime": null, "expects_response": seconds|null}
   * → {"body": "<text>", "blob": base64|null, "mime": ...} or {"error": "Offline"|"Timeout"|...}
   */
  private async inject(b: Record<string, unknown>): Promise<Response> {
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
    const message = {
      Request: { inherit: false, expects_response: expects, body: utf8(b.body), metadata: null, capabilities: [] },
    };
    if (expects === null) {
      this.k.send(this.process, { target, message, blob });
      return json({ sent: true });
    }
    const id = crypto.getRandomValues(new Uint32Array(1))[0] + 1;
    const reply = new Promise<KernelMessage>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.k.send(this.process, { id, target, message, blob });
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
  private async installFrom(b: Record<string, unknown>): Promise<Response> {
    if (typeof b.package_id !== "string") throw new ParseError("package_id must be a string");
    if (!b.files || typeof b.files !== "object") throw new ParseError("files must be an object of base64 strings");
    const files: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(b.files as Record<string, unknown>)) {
      if (typeof v !== "string") throw new ParseError(`file ${k} must be base64`);
      files[k] = decodeBase64(v);
    }
    return json(await this.install(b.package_id, files));
  }

  handle(km: KernelMessage) {
    const w = this.waiting.get(km.id);
    if (w && "Response" in km.message) {
      this.waiting.delete(km.id);
      w.resolve(km);
    }
  }

  handleError(id: number, error: SendError) {
    const w = this.waiting.get(id);
    if (w) {
      this.waiting.delete(id);
      w.reject(error);
    }
  }

  async shutdown() {
    await this.server?.shutdown();
  }
}

function json(v: unknown, status = 200): Response {
  return new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
}
