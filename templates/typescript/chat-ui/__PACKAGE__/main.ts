/**
 * __PACKAGE__ with a web UI: the chat of the no-UI template, plus its page
 * (ui/, built into pkg/ui/) served at /__PACKAGE__:__PACKAGE__:__PUBLISHER__/
 * and a JSON API beside it at .../api: GET gives every conversation, POST
 * `{"Send": {"target", "message"}}` sends one.
 *
 * Needs process_lib's serveUi (the HTTP server's part of process_lib).
 */
import { type Message, our, println, Request, requests, Response, serveUi } from "@hyperdeno/process_lib";
import { CHAT_PROCESS, type ChatMessage, type ChatRequest, type ChatResponse } from "@api/__PACKAGE__:__PUBLISHER__";

const HTTP_SERVER = "http-server:distro:sys";
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
    await Request.to(`${target}@${CHAT_PROCESS}`).json(request).sendAndAwaitResponse(5);
    record(target, { author: me, content: message });
  }
  return "Send";
}

/** GET .../api: every conversation; POST .../api with a ChatRequest: the chat's answer. */
async function http(msg: Message, incoming: { method: string }) {
  const reply = (status: number, body: unknown) =>
    Response.to(msg).json({ status, headers: { "Content-Type": "application/json" } })
      .blobBytes(new TextEncoder().encode(JSON.stringify(body)), "application/json").send();
  if (incoming.method === "GET") return reply(200, Object.fromEntries(archive));
  if (incoming.method !== "POST") return reply(405, { error: "use GET or POST" });
  try {
    const request = JSON.parse(new TextDecoder().decode(msg.blob()?.bytes ?? new Uint8Array())) as ChatRequest;
    reply(200, await chat(request, our().node));
  } catch (e) {
    reply(400, { error: (e as Error).message });
  }
}

export default async function init(_our: string) {
  await serveUi("ui", ["/"]);
  await Request.to(`${our().node}@${HTTP_SERVER}`)
    .json({ Bind: { path: "/api", authenticated: true, local_only: false, cache: false } })
    .sendAndAwaitResponse(5);
  for await (const msg of requests()) {
    try {
      const body = msg.json<ChatRequest | { Http: { method: string } }>();
      if ("Http" in body) await http(msg, body.Http);
      else Response.to(msg).json(await chat(body, msg.source.node)).send();
    } catch (e) {
      println(`error handling a message from ${msg.source}: ${(e as Error).message}`);
    }
  }
}
