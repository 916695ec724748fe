/**
 * The API of __PACKAGE__:__PUBLISHER__: the requests its process takes and the
 * responses it gives, as JSON. Other packages import it as
 * `@api/__PACKAGE__:__PUBLISHER__` (listed under dependencies in their
 * metadata.json), as its send script and test package do.
 */

/** The chat process's id: message it at `<node>@${CHAT_PROCESS}`. */
export const CHAT_PROCESS = "__PACKAGE__:__PACKAGE__:__PUBLISHER__";

export interface SendRequest {
  /** The node to send to; our own node name means "a message arrived from the request's source node". */
  target: string;
  message: string;
}

export interface ChatMessage {
  author: string;
  content: string;
}

/** `{"Send": {"target": "fake2.dev", "message": "hello"}}` or `{"History": "fake2.dev"}`. */
export type ChatRequest = { Send: SendRequest } | { History: string };

/** `"Send"` once a message is delivered, or `{"History": [...]}` with the messages exchanged with a node. */
export type ChatResponse = "Send" | { History: ChatMessage[] };
