/**
 * http-server:distro:sys and homepage:homepage:sys: the book's
 * HttpServerAction (what a process asks of the server), HttpServerRequest
 * (what the server sends a process), IncomingHttpRequest, HttpResponse and
 * HttpServerError, in their serde JSON shapes (externally tagged variants).
 */
import type { ProcessId } from "../types.ts";

export type WsMessageType = "Text" | "Binary" | "Ping" | "Pong" | "Close";
export type MessageType = "Request" | "Response";

export type HttpServerAction =
  | { Bind: { path: string; authenticated: boolean; local_only: boolean; cache: boolean } }
  | { SecureBind: { path: string; cache: boolean } }
  | { Unbind: { path: string } }
  | { WebSocketBind: { path: string; authenticated: boolean; extension: boolean } }
  | { WebSocketSecureBind: { path: string; extension: boolean } }
  | { WebSocketUnbind: { path: string } }
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | { WebSocketExtPushOutgoing: { channel_id: number; message_type: WsMessageType; desired_reply_type: MessageType } }
  | { WebSocketClose: number };

/** What the server sends the process that bound a path. */
export type HttpServerRequest =
  | { Http: IncomingHttpRequest }
  | { WebSocketOpen: { path: string; channel_id: number } }
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | { WebSocketClose: number };

/** An HTTP request routed to a process; its body is the message's blob. */
export interface IncomingHttpRequest {
  source_socket_addr: string | null;
  method: string;
  /** The full URL as the client asked for it, host included. */
  url: string;
  /** The binding the request matched, with the process id prefix, e.g. `/app:app:pub/item/:id`. */
  bound_path: string;
  headers: Record<string, string>;
  /** Values of the bound path's `:name` segments. */
  url_params: Record<string, string>;
  query_params: Record<string, string>;
  /**
   * hyperdeno: a body too large for a blob (over 64 MiB) is not in the blob but in this file of the
   * process's tmp drive, e.g. `/app:pub/tmp/http-in/<id>`; it is removed after the answer (rename it to keep it).
   */
  body_file?: string | null;
}

/** A process's answer to an IncomingHttpRequest; its body is the message's blob. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** hyperdeno: instead of the blob, stream this file of the process's own package (a VFS path) as the body. */
  body_file?: string | null;
}

export type HttpServerError =
  | { BadRequest: { req: string } }
  | "NoBlob"
  | { PathBindError: { error: string } }
  | { WebSocketPushError: { error: string } };

/** Every action answers `Result<(), HttpServerError>`: `{"Ok": null}` or `{"Err": ...}`. */
export type HttpServerResult = { Ok: null } | { Err: HttpServerError };

/**
 * The extension protocol's one message (MessagePack, named fields): the
 * server sends it to an extension for each WebSocketExtPushOutgoing, and an
 * extension answers with one.
 */
export interface WebSocketExtPushData {
  id: number;
  hyperware_message_type: MessageType;
  blob: Uint8Array;
}

// ---------------------------------------------------------------- homepage

export const HOMEPAGE: ProcessId = "homepage:homepage:sys";

/** What an app sends homepage:homepage:sys (process_lib's add_to_homepage sends Add). */
export type HomepageRequest =
  | { Add: { label: string; icon: string | null; path: string | null; widget: string | null } }
  | "Remove";

/** An app on the home page: its tile links to `/<process><path>`. */
export interface HomepageApp {
  process: ProcessId;
  label: string;
  icon: string | null;
  path: string | null;
  widget: string | null;
}
