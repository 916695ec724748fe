/**
 * The book's process_lib http server helpers: bind paths and WebSockets,
 * answer HTTP requests, push to WebSocket clients, serve a UI folder from the
 * package's pkg drive, and read what http-server:distro:sys sends.
 *
 * ```ts
 * await serveUi("ui", true, false, ["/"]);
 * await bindHttpPath("/api", true, false);
 * for await (const msg of requests()) {
 *   const req = incomingHttpRequest(msg);
 *   if (req?.method === "GET") sendResponse(200, { "content-type": "application/json" }, "[]");
 * }
 * ```
 *
 * Browsers reach a process's paths on its own origin, `<label>.localhost:PORT`
 * (README, The web side): a UI's relative URLs, `/our.js` and a WebSocket at
 * `location.host` work there as they are; the node's pages and other apps'
 * paths are another site's.
 */
import { HTTP_SERVER } from "../api/processes.ts";
import { HOMEPAGE } from "../api/http.ts";
import type {
  HttpServerAction,
  HttpServerError,
  HttpServerRequest,
  IncomingHttpRequest,
  WsMessageType,
} from "../api/http.ts";
import type { Message } from "./message.ts";
import { Request, Response } from "./builders.ts";
import { ourModule } from "./modules.ts";
import { connect, current } from "./port.ts";
import * as vfs from "./vfs.ts";

export type { HttpServerAction, HttpServerRequest, IncomingHttpRequest, WsMessageType };

/** An action http-server:distro:sys refused (`{"PathBindError": {...}}`, "NoBlob", ...). */
export class HttpServerActionError extends Error {
  override name = "HttpServerActionError";
  constructor(readonly error: HttpServerError) {
    super(`http-server: ${JSON.stringify(error)}`);
  }
}

async function act(action: HttpServerAction, blob?: { bytes: Uint8Array; mime: string | null }): Promise<void> {
  const r = Request.to(ourModule(HTTP_SERVER)).json(action);
  if (blob) r.blob(blob);
  const answer = (await r.sendAndAwaitResponse(10)).json<{ Ok: null } | { Err: HttpServerError }>();
  if (answer && typeof answer === "object" && "Err" in answer) throw new HttpServerActionError(answer.Err);
}

/** Binds `path` (under this process's id) to this process: its requests arrive as HttpServerRequest.Http. */
export function bindHttpPath(path: string, authenticated = true, localOnly = false): Promise<void> {
  return act({ Bind: { path, authenticated, local_only: localOnly, cache: false } });
}

/** Serves `bytes` at `path` to every GET, from the server itself (the process is not asked). */
export function bindHttpStaticPath(
  path: string,
  authenticated: boolean,
  localOnly: boolean,
  mime: string | null,
  bytes: Uint8Array,
): Promise<void> {
  return act({ Bind: { path, authenticated, local_only: localOnly, cache: true } }, { mime, bytes });
}

/** Binds `path` served only on this process's own subdomain, always authenticated. */
export function secureBindHttpPath(path: string): Promise<void> {
  return act({ SecureBind: { path, cache: false } });
}

export function unbindHttpPath(path: string): Promise<void> {
  return act({ Unbind: { path } });
}

/** Binds a WebSocket path: clients connect at `/<process><path>`; this process hears WebSocketOpen/Push/Close. */
export function bindWsPath(path: string, authenticated = true, extension = false): Promise<void> {
  return act({ WebSocketBind: { path, authenticated, extension } });
}

export function secureBindWsPath(path: string, extension = false): Promise<void> {
  return act({ WebSocketSecureBind: { path, extension } });
}

export function unbindWsPath(path: string): Promise<void> {
  return act({ WebSocketUnbind: { path } });
}

/** The book's bind_ext_path: a WebSocket path an extension connects to (local clients, extension protocol). */
export function bindExtPath(path: string): Promise<void> {
  return act({ WebSocketBind: { path, authenticated: false, extension: true } });
}

/** Answers the HTTP request received last (or `to`) with `status`, `headers` and `body`. */
export function sendResponse(
  status: number,
  headers: Record<string, string> | null,
  body: Uint8Array | string,
  to?: Message,
): void {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const r = to ? Response.to(to) : Response.new();
  r.json({ status, headers: headers ?? {} }).blobBytes(bytes, null).send();
}

/**
 * Answers with the file at `vfsPath` (one of this package's own) as the body: the server streams it from
 * disk, for bodies too large for a blob.
 */
export function sendFileResponse(
  status: number,
  headers: Record<string, string> | null,
  vfsPath: string,
  to?: Message,
): void {
  const r = to ? Response.to(to) : Response.new();
  r.json({ status, headers: headers ?? {}, body_file: vfsPath }).send();
}

/** Pushes a message to WebSocket channel `channelId` (one this process owns). */
export function sendWsPush(channelId: number, messageType: WsMessageType, bytes: Uint8Array | string): void {
  const b = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  Request.to(ourModule(HTTP_SERVER)).json({ WebSocketPush: { channel_id: channelId, message_type: messageType } })
    .blobBytes(b).send();
}

/** Sends an extension a request or response over its channel (the book's WebSocketExtPushOutgoing). */
export function sendExtPush(channelId: number, desiredReplyType: "Request" | "Response", bytes: Uint8Array): void {
  Request.to(ourModule(HTTP_SERVER)).json({
    WebSocketExtPushOutgoing: { channel_id: channelId, message_type: "Binary", desired_reply_type: desiredReplyType },
  }).blobBytes(bytes).send();
}

export function closeWsChannel(channelId: number): void {
  Request.to(ourModule(HTTP_SERVER)).json({ WebSocketClose: channelId }).send();
}

/** What http-server:distro:sys sent in `msg`, or null when the message is not from it. */
export function httpServerRequest(msg: Message): HttpServerRequest | null {
  if (msg.source.process !== HTTP_SERVER || !msg.isRequest()) return null;
  // The CLI's inject-message also arrives from http-server: only the book's variants count.
  try {
    const v = msg.json<HttpServerRequest>();
    const kind = v && typeof v === "object" ? Object.keys(v)[0] : null;
    return kind === "Http" || kind === "WebSocketOpen" || kind === "WebSocketPush" || kind === "WebSocketClose"
      ? v
      : null;
  } catch {
    return null;
  }
}

/** The IncomingHttpRequest in `msg`, with its body; null for anything else. */
export function incomingHttpRequest(
  msg: Message,
): (IncomingHttpRequest & { body(): Uint8Array; path(): string }) | null {
  const r = httpServerRequest(msg);
  if (!r || !("Http" in r)) return null;
  const blob = msg.blob();
  return {
    ...r.Http,
    /** The request body (the message's blob). */
    body: () => blob?.bytes ?? new Uint8Array(),
    /** The URL's path below this process's id, e.g. "/api/items". */
    path: () => new URL(r.Http.url).pathname.slice(`/${connect().init.our.split("@")[1]}`.length) || "/",
  };
}

/** The bytes of the WebSocket message received last (a WebSocketPush's blob). */
export function wsMessageBytes(): Uint8Array {
  return current.blob?.bytes ?? new Uint8Array();
}

const MIME: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  map: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
  wasm: "application/wasm",
  woff: "font/woff",
  woff2: "font/woff2",
};

/** The content type for a file name. */
export function mimeOf(name: string): string {
  return MIME[name.split(".").pop()!.toLowerCase()] ?? "application/octet-stream";
}

/**
 * Serves the package's `pkg/<directory>` folder (built from its `ui/` by
 * `deno task build`): index.html at each of `paths` (usually "/", this
 * process's root), every file at its own path, with its content type; the
 * server answers them itself, with an ETag.
 */
export async function serveUi(
  directory = "ui",
  authenticated = true,
  localOnly = false,
  paths: string[] = ["/"],
): Promise<number> {
  const pkg = connect().init.our.split("@")[1].split(":").slice(1).join(":");
  const root = `/${pkg}/pkg/${directory.replace(/^\/+|\/+$/g, "")}`;
  let served = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await new vfs.Directory(dir).read()) {
      const full = e.path.startsWith("/") ? e.path : `/${e.path}`;
      if (!full.startsWith(`${root}/`)) continue; // the VFS never lists outside; belt and braces
      if (e.file_type === "Directory") {
        await walk(full);
        continue;
      }
      if (e.file_type !== "File") continue;
      const rel = full.slice(root.length);
      const bytes = await new vfs.File(full).read();
      const mime = mimeOf(rel);
      await bindHttpStaticPath(rel, authenticated, localOnly, mime, bytes);
      if (rel === "/index.html") {
        for (const p of paths) await bindHttpStaticPath(p, authenticated, localOnly, mime, bytes);
      }
      served++;
    }
  };
  await walk(root);
  return served;
}

/** The book's homepage::add_to_homepage: a tile (icon as a data: URL, path under this process) and widget HTML. */
export function addToHomepage(label: string, icon: string | null, path: string | null, widget: string | null): void {
  Request.to(ourModule(HOMEPAGE)).json({ Add: { label, icon, path, widget } }).send();
}

export function removeFromHomepage(): void {
  Request.to(ourModule(HOMEPAGE)).json("Remove").send();
}
