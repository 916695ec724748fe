/**
 * send:__PACKAGE__:__PUBLISHER__ — a script: `send:__PACKAGE__:__PUBLISHER__ <TARGET> <MESSAGE>`
 * in the node's terminal sends a chat message through our chat process.
 */
import { Request, script, SendError } from "@hyperdeno/process_lib";
import { CHAT_PROCESS, type ChatRequest, type ChatResponse } from "@api/__PACKAGE__:__PUBLISHER__";

const USAGE = "Usage: send:__PACKAGE__:__PUBLISHER__ <TARGET_NODE> <MESSAGE>";

export default script(async (our, args) => {
  const m = args.trim().match(/^(\S+)\s+([\s\S]+)$/);
  if (!m) return USAGE;
  const [, target, message] = m;
  const request: ChatRequest = { Send: { target, message } };
  try {
    const response = await Request.to(`${our.node}@${CHAT_PROCESS}`).json(request).sendAndAwaitResponse(5);
    const answer = response.json<ChatResponse>();
    if (answer === "Send") return `sent to ${target}`;
    if (typeof answer === "object" && "Err" in answer) return `not sent to ${target}: ${answer.Err}`;
    return `did not receive the expected answer from ${CHAT_PROCESS}: ${response.text()}`;
  } catch (e) {
    if (e instanceof SendError) return `${CHAT_PROCESS} did not answer (${e.kind}): is ${target} running it?`;
    throw e;
  }
});
