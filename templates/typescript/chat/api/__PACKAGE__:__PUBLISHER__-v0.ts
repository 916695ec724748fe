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

/**
 * `"Send"` once a message is delivered, `{"History": [...]}` with the messages exchanged with a node, or
 * `{"Err": "why"}` for a request it could not take or deliver.
 */
export type ChatResponse = "Send" | { History: ChatMessage[] } | { Err: string };

const EXPECTED = `expected {"Send": {"target": "<node>", "message": "<text>"}} or {"History": "<node>"}`;

/** The ChatRequest in a request's body, or an error whose message says, in one line, what was expected. */
export function parseChatRequest(text: string): ChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${EXPECTED}; got ${preview(text)}, which is not JSON`);
  }
  const r = body as Record<string, unknown> | null;
  if (r && typeof r === "object" && !Array.isArray(r) && Object.keys(r).length === 1) {
    const send = r.Send as Record<string, unknown> | undefined;
    if (send && typeof send === "object" && typeof send.target === "string" && typeof send.message === "string") {
      return { Send: { target: send.target, message: send.message } };
    }
    if (typeof r.History === "string") return { History: r.History };
  }
  throw new Error(`${EXPECTED}; got ${preview(text)}`);
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 60)}…` : oneLine || "an empty body";
}
