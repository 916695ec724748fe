/**
 * Helpers for http-client:distro:sys, after the book's `http::client`:
 *
 * ```ts
 * import { httpClient } from "@hyperdeno/process_lib";
 * const r = await httpClient.fetch("https://example.com/api", { method: "POST", body: "{}", timeout: 10 });
 * println(r.status, r.text());
 * await httpClient.openWsConnection("ws://localhost:8765", null, 0);
 * httpClient.sendWsClientPush(0, "Text", "hello");
 * // messages then arrive through awaitMessage: httpClient.wsEvent(msg) reads them
 * ```
 *
 * The process needs http-client's capability ("http-client:distro:sys" in its
 * manifest's request_capabilities); without it every call here fails with a
 * SendError (Offline) and the node logs what to add. It reaches the internet;
 * local addresses (this machine, as `localhost` above, and private or
 * link-local networks) only with `{"process": "http-client:distro:sys",
 * "params": "local-network"}` in request_capabilities too, else the call
 * throws HttpClientError AddressRefused. The module's refusals throw
 * HttpClientError carrying the book's variant.
 */
import { HTTP_CLIENT } from "../api/processes.ts";
import type {
  HttpClientAction,
  HttpClientError as HttpClientErrorVariant,
  HttpClientRequest,
  HttpClientResult,
  WsMessageType,
} from "../api/http_client.ts";
import { type LazyLoadBlob, nodeOf } from "../types.ts";
import { connect } from "./port.ts";
import { Request } from "./builders.ts";
import type { Message } from "./message.ts";
import { ourModule } from "./modules.ts";

export type { HttpClientAction, HttpClientErrorVariant, HttpClientRequest, WsMessageType };

type Body = Uint8Array | string;
const bytes = (b: Body) => typeof b === "string" ? new TextEncoder().encode(b) : b;

/** A refusal from http-client; `error` is the book's HttpClientError variant, e.g. `{"BadUrl": {"url": "..."}}`. */
export class HttpClientError extends Error {
  override name = "HttpClientError";
  constructor(readonly error: HttpClientErrorVariant) {
    super(`http-client: ${JSON.stringify(error)}`);
  }
  /** The variant's name, e.g. "RequestFailed". */
  get kind(): string {
    return Object.keys(this.error)[0];
  }
}

/** An HTTP response: status, headers (Pascal-Case names) and the body. */
export class HttpResponse {
  constructor(readonly status: number, readonly headers: Record<string, string>, readonly body: Uint8Array) {}
  /** A header's value, whatever the case of `name`. */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    return Object.entries(this.headers).find(([k]) => k.toLowerCase() === lower)?.[1];
  }
  text(): string {
    return new TextDecoder().decode(this.body);
  }
  json<T = unknown>(): T {
    return JSON.parse(this.text());
  }
}

/** http-client's address on our node, for sending an HttpClientAction by hand. */
export function address(): string {
  return ourModule(HTTP_CLIENT);
}

async function call(action: HttpClientAction, timeout: number, blob: Uint8Array | null): Promise<Message> {
  const r = Request.to(address()).json(action);
  if (blob?.length) r.blobBytes(blob);
  const resp = await r.sendAndAwaitResponse(timeout);
  const result = resp.json<HttpClientResult>();
  if ("Err" in result) throw new HttpClientError(result.Err);
  return resp;
}

/**
 * The book's send_request_await_response: sends an HTTP request and waits up
 * to `timeout` seconds for the whole response. Throws HttpClientError
 * (BadMethod, BadUrl, BadVersion, RequestFailed, ...) or SendError.
 */
export async function sendRequestAwaitResponse(
  method: string,
  url: string,
  headers: Record<string, string> | null,
  timeout: number,
  body: Body = new Uint8Array(),
  version: string | null = null,
): Promise<HttpResponse> {
  const resp = await call({ Http: { method, url, version, headers: headers ?? {} } }, timeout, bytes(body));
  const ok = resp.json<{ Ok: { Http: { status: number; headers: Record<string, string> } } }>().Ok.Http;
  return new HttpResponse(ok.status, ok.headers, resp.blob()?.bytes ?? new Uint8Array());
}

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: Body;
  /** Seconds for the whole exchange (default 30). */
  timeout?: number;
  /** "HTTP/1.1" or "HTTP/2.0"; the platform's choice when absent. */
  version?: string;
}

/** sendRequestAwaitResponse in the shape of the web's fetch: `await fetch(url, { method: "POST", body })`. */
export function fetch(url: string, init: FetchInit = {}): Promise<HttpResponse> {
  return sendRequestAwaitResponse(
    init.method ?? "GET",
    url,
    init.headers ?? null,
    init.timeout ?? 30,
    init.body,
    init.version ?? null,
  );
}

/**
 * The book's send_request: fires the request off. With a `timeout` its
 * answer (`{"Ok": {"Http": ...}}` or `{"Err": ...}`, body in the blob) comes
 * through awaitMessage with `context`; without one nobody hears it.
 */
export function sendRequest(
  method: string,
  url: string,
  headers: Record<string, string> | null,
  timeout: number | null,
  body: Body = new Uint8Array(),
  context: Body | null = null,
): void {
  const r = Request.to(address()).json({ Http: { method, url, version: null, headers: headers ?? {} } });
  const b = bytes(body);
  if (b.length) r.blobBytes(b);
  if (timeout !== null) r.expectsResponse(timeout);
  if (context !== null) r.context(context);
  r.send();
}

/**
 * Opens WebSocket channel `channelId` (this process's choice; opening an id
 * again replaces that channel) to `url`. Messages from the server then arrive
 * as requests from http-client: read them with wsEvent.
 */
export async function openWsConnection(
  url: string,
  headers: Record<string, string> | null,
  channelId: number,
  timeout = 10,
): Promise<void> {
  await call({ WebSocketOpen: { url, headers: headers ?? {}, channel_id: channelId } }, timeout, null);
}

/** Sends a message on an open channel; fire and forget, as the book's (a refusal is logged by the node). */
export function sendWsClientPush(channelId: number, messageType: WsMessageType, blob: LazyLoadBlob | Body): void {
  const data = typeof blob === "string" || blob instanceof Uint8Array ? bytes(blob) : blob.bytes;
  const action: HttpClientAction = { WebSocketPush: { channel_id: channelId, message_type: messageType } };
  Request.to(address()).json(action).blobBytes(data).send();
}

/** sendWsClientPush that waits for the acknowledgement, and throws HttpClientError (WsPushFailed) if refused. */
export async function sendWsClientPushAwait(
  channelId: number,
  messageType: WsMessageType,
  blob: Body,
  timeout = 10,
): Promise<void> {
  await call({ WebSocketPush: { channel_id: channelId, message_type: messageType } }, timeout, bytes(blob));
}

/** Closes a channel this process opened; throws HttpClientError (WsCloseFailed) for one that is not open. */
export async function closeWsConnection(channelId: number, timeout = 10): Promise<void> {
  await call({ WebSocketClose: { channel_id: channelId } }, timeout, null);
}

/**
 * The book's HttpClientRequest when `msg` is one (a message on a channel this
 * process opened, its data in `msg.blob()`, or the channel's close), else null.
 */
export function wsEvent(msg: Message): HttpClientRequest | null {
  // Another node can name any process as its source; only our own http-client speaks for our channels.
  if (!msg.isRequest() || msg.source.process !== HTTP_CLIENT || msg.source.node !== nodeOf(connect().init.our)) {
    return null;
  }
  const v = msg.json<HttpClientRequest>();
  return "WebSocketPush" in v || "WebSocketClose" in v ? v : null;
}
