/**
 * __PACKAGE__-test: on the first node of the test, sends "hello" to the
 * second node through our chat process, then asks the second node's chat
 * process for its history with us, which must hold exactly that message.
 */
import { type Message, our, Request } from "@hyperdeno/process_lib";
import { CHAT_PROCESS, type ChatRequest, type ChatResponse } from "@api/__PACKAGE__:__PUBLISHER__";
import { fail, pass, testMain } from "./tester_lib.ts";

const TEST = "__PACKAGE__-test";

async function ask(node: string, request: ChatRequest): Promise<ChatResponse> {
  return (await Request.to(`${node}@${CHAT_PROCESS}`).json(request).sendAndAwaitResponse(15)).json<ChatResponse>();
}

async function test(run: Message, nodes: string[]) {
  const me = our().node;
  if (nodes.length < 2) return fail(run, TEST, `needs two nodes, got ${nodes.join(", ")}`);
  // Only the first node runs the test; the others are its counterparts.
  if (me !== nodes[0]) return pass(run);
  const message = "hello";
  const sent = await ask(me, { Send: { target: nodes[1], message } });
  if (sent !== "Send") return fail(run, TEST, `Send answered ${JSON.stringify(sent)}`);
  const history = await ask(nodes[1], { History: me });
  const expected = { History: [{ author: me, content: message }] };
  if (JSON.stringify(history) !== JSON.stringify(expected)) {
    return fail(run, TEST, `${nodes[1]}'s history is ${JSON.stringify(history)}, expected ${JSON.stringify(expected)}`);
  }
  pass(run);
}

export default testMain(TEST, test);
