/**
 * __PACKAGE__: a chat between nodes. `{"Send": {"target", "message"}}` sends
 * the message to the chat process on `target`; arriving there, it is printed
 * in that node's terminal. Each side keeps the history
 * per counterparty, answered to `{"History": "<node>"}`.
 */
import { type Message, our, println, Request, requests, Response } from "@hyperdeno/process_lib";
import { CHAT_PROCESS, type ChatMessage, type ChatResponse, parseChatRequest } from "@api/__PACKAGE__:__PUBLISHER__";

const archive = new Map<string, ChatMessage[]>();

function record(counterparty: string, message: ChatMessage) {
  const messages = archive.get(counterparty) ?? [];
  messages.push(message);
  archive.set(counterparty, messages);
}

async function handle(msg: Message) {
  const me = our().node;
  const source = msg.source.node;
  const request = parseChatRequest(msg.text());
  if ("Send" in request) {
    const { target, message } = request.Send;
    if (target === me) {
      // A message for us: from another node's chat process, or from ourselves.
      println(`${source}: ${message}`);
      record(source, { author: source, content: message });
    } else {
      const reply = (await Request.to(`${target}@${CHAT_PROCESS}`).json(request).sendAndAwaitResponse(5)).json<
        ChatResponse
      >();
      if (typeof reply === "object" && "Err" in reply) throw new Error(`${target} did not take it: ${reply.Err}`);
      record(target, { author: me, content: message });
    }
    Response.to(msg).json("Send" satisfies ChatResponse).send();
  } else {
    Response.to(msg).json({ History: archive.get(request.History) ?? [] } satisfies ChatResponse).send();
  }
}

export default async function init(_our: string) {
  for await (const msg of requests()) {
    try {
      await handle(msg);
    } catch (e) {
      // A request it cannot take (or a message it cannot deliver) is answered with why, in one line.
      const error = (e as Error).message;
      if (msg.expectsResponse() !== null) Response.to(msg).json({ Err: error } satisfies ChatResponse).send();
      else println(`error handling a message from ${msg.source}: ${error}`);
    }
  }
}
