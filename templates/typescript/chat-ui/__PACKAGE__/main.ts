/**
 * __PACKAGE__ with a web UI: the chat of the no-UI template, plus its page
 * (ui/, built into pkg/ui/) served at /__PACKAGE__:__PACKAGE__:__PUBLISHER__/
 * and a JSON API beside it at .../api: GET gives every conversation, POST
 * `{"Send": {"target", "message"}}` sends one.
 *
 * Uses process_lib's HTTP helpers (serveUi, bindHttpPath, incomingHttpRequest, sendResponse).
 */
import {
  bindHttpPath,
  incomingHttpRequest,
  type Message,
  our,
  println,
  Request,
  requests,
  Response,
  sendResponse,
  serveUi,
} from "@hyperdeno/process_lib";
import {
  CHAT_PROCESS,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  parseChatRequest,
} from "@api/__PACKAGE__:__PUBLISHER__";

const archive = new Map<string, ChatMessage[]>();

function record(counterparty: string, message: ChatMessage) {
  archive.set(counterparty, [...archive.get(counterparty) ?? [], message]);
}

/** A chat request from a node (ours, or a peer's chat process); answers "Send" or the history. */
async function chat(request: ChatRequest, source: string): Promise<ChatResponse> {
  const me = our().node;
  if ("History" in request) return { History: archive.get(request.History) ?? [] };
  const { target, message } = request.Send;
  if (target === me) {
    println(`${source}: ${message}`);
    record(source, { author: source, content: message });
  } else {
    const reply = (await Request.to(`${target}@${CHAT_PROCESS}`).json(request).sendAndAwaitResponse(5)).json<
      ChatResponse
    >();
    if (typeof reply === "object" && "Err" in reply) throw new Error(`${target} did not take it: ${reply.Err}`);
    record(target, { author: me, content: message });
  }
  return "Send";
}

/** GET .../api: every conversation; POST .../api with a ChatRequest: the chat's answer. */
async function http(msg: Message, method: string, body: Uint8Array) {
  const json = { "Content-Type": "application/json" };
  if (method === "GET") return sendResponse(200, json, JSON.stringify(Object.fromEntries(archive)), msg);
  if (method !== "POST") return sendResponse(405, json, JSON.stringify({ error: "use GET or POST" }), msg);
  try {
    const request = parseChatRequest(new TextDecoder().decode(body));
    sendResponse(200, json, JSON.stringify(await chat(request, our().node)), msg);
  } catch (e) {
    sendResponse(400, json, JSON.stringify({ error: (e as Error).message }), msg);
  }
}

export default async function init(_our: string) {
  // The page (pkg/ui/, from ui/) at this process's root, and its JSON API beside it; both for the node's owner.
  await serveUi("ui", true, false, ["/"]);
  await bindHttpPath("/api", true, false);
  for await (const msg of requests()) {
    try {
      const incoming = incomingHttpRequest(msg);
      if (incoming) await http(msg, incoming.method, incoming.body());
      else Response.to(msg).json(await chat(parseChatRequest(msg.text()), msg.source.node)).send();
    } catch (e) {
      // A request it cannot take (or a message it cannot deliver) is answered with why, in one line.
      const error = (e as Error).message;
      if (msg.expectsResponse() !== null) Response.to(msg).json({ Err: error } satisfies ChatResponse).send();
      else println(`error handling a message from ${msg.source}: ${error}`);
    }
  }
}
