/**
 * http-client:distro:sys: the book's HttpClientAction, OutgoingHttpRequest,
 * HttpClientResponse, HttpClientError and HttpClientRequest, as serde writes
 * them (externally tagged, see variant.ts). Every request is answered with
 * `Result<HttpClientResponse, HttpClientError>`: `{"Ok": ...}` or `{"Err": ...}`.
 *
 * An Http request's body travels in the blob, its timeout is the request's
 * expects_response, and the response's body comes back in the blob. Incoming
 * WebSocket messages on a channel a process opened reach it as
 * HttpClientRequest (the message in the blob).
 */

import { HTTP_CLIENT } from "./processes.ts";

/**
 * The params of http-client's capability to reach local addresses (loopback,
 * private, link-local, ...); without it a process reaches only the internet.
 * A manifest asks for it as LOCAL_NETWORK_REQUEST, and the install lists it.
 */
export const LOCAL_NETWORK = "local-network";
export const LOCAL_NETWORK_REQUEST = { process: HTTP_CLIENT, params: LOCAL_NETWORK } as const;

/** The book's WsMessageType (http-server's, re-exported by the client in the book's process_lib). */
export type WsMessageType = "Text" | "Binary" | "Ping" | "Pong" | "Close";
export const WS_MESSAGE_TYPES: readonly WsMessageType[] = ["Text", "Binary", "Ping", "Pong", "Close"];

/** The book's HttpResponse (the http-server's type; the client answers with it). Body in the blob. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
}

export interface OutgoingHttpRequest {
  /** An HTTP method token, e.g. "GET". */
  method: string;
  /** null, "HTTP/1.1" or "HTTP/2.0"; the other versions are answered BadVersion. */
  version: string | null;
  url: string;
  headers: Record<string, string>;
}

export type HttpClientAction =
  | { Http: OutgoingHttpRequest }
  | { WebSocketOpen: { url: string; headers: Record<string, string>; channel_id: number } }
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | { WebSocketClose: { channel_id: number } };

export type HttpClientResponse = { Http: HttpResponse } | "WebSocketAck";

export type HttpClientError =
  | { BadRequest: { req: string } }
  | { BadMethod: { method: string } }
  | { BadUrl: { url: string } }
  | { BadVersion: { version: string } }
  | { RequestFailed: { error: string } }
  /**
   * Not in the book: the URL's host is (or resolves to) an address the
   * process may not reach, refused before any connection: a local one
   * without the local-network capability, or the node's own port. `reason`
   * is one line saying which and what would allow it.
   */
  | { AddressRefused: { url: string; address: string; reason: string } }
  | { WsOpenFailed: { url: string } }
  | { WsPushFailed: { req: string } }
  | { WsCloseFailed: { channel_id: number } };

/** What the module sends the process that opened a channel: a message arrived, or the channel closed. */
export type HttpClientRequest =
  | { WebSocketPush: { channel_id: number; message_type: WsMessageType } }
  | { WebSocketClose: { channel_id: number } };

/** The answer to every HttpClientAction. */
export type HttpClientResult = { Ok: HttpClientResponse } | { Err: HttpClientError };
