/**
 * __PACKAGE__: a chat between nodes. `{"Send": {"target", "message"}}` sends
 * the message to the chat process on `target`; arriving there, it is printed
 * in that node's terminal. Each side keeps the history
 * per counterparty, answered to `{"History": "<node>"}`.
 */
import { type Message, our, println, Request, requests, Response } from "@hyperdeno/process_lib";
import { CHAT_PROCESS, type ChatMessage, type ChatRequest, type ChatResponse } from "@api/__PACKAGE__:__PUBLISHER__";

const archive = new Map<string, ChatMessage[]>();

function record(counterparty: string, message: ChatMessage) {
  const messages = archive.get(counterparty) ?? [];
  messages.push(message);
  archive.set(counterparty, messages);
}

async function handle(msg: Message) {
  const me = our().node;
  const source = msg.source.node;
  const request = msg.json<ChatRequest>();
  if ("Send" in request) {
    const { target, message } = request.Send;
    if (target === me) {
      // A message for us: from another node's chat process, or from ourselves.
      println(`${source}: ${message}`);
      record(source, { author: source, content: message });
    } else {
      await Request.to(`${target}@${CHAT_PROCESS}`).json(request).sendAndAwaitResponse(5);
      record(target, { author: me, content: message });
    }
    Response.to(msg).json("Send" satisfies ChatResponse).send();
  } else if ("History" in request) {
    Response.to(msg).json({ History: archive.get(request.History) ?? [] } satisfies ChatResponse).send();
  } else {
    throw new Error(`unexpected request ${msg.text()}`);
  }
}

export default async function init(_our: string) {
  for await (const msg of requests()) {
    try {
      await handle(msg);
    } catch (e) {
      println(`error handling a message from ${msg.source}: ${(e as Error).message}`);
    }
  }
}
