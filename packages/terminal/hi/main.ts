/** hi:terminal:sys — `hi <HNS_ID> <MESSAGE>`: the message appears in that node's terminal. */
import { moduleAddress, NET, println, Request, script, SendError } from "@hyperdeno/process_lib";

const USAGE = "Usage: hi <HNS_ID> <MESSAGE>\n  e.g. hi other-node.os Hello other-node.os! how are you?";

export default script(async (our, line) => {
  const m = line.trim().match(/^(\S+)\s+([\s\S]+)$/);
  if (!m) return USAGE;
  const [, node, message] = m;
  // To ourselves there is no link to cross: the message shows here, as another node's would.
  if (node === our.node) {
    println(message);
    return `hi: ${node} (this node) got it`;
  }
  const t0 = Date.now();
  try {
    await Request.to(moduleAddress(node, NET)).body(message).sendAndAwaitResponse(5);
    return `hi: ${node} got it (${Date.now() - t0} ms)`;
  } catch (e) {
    if (e instanceof SendError) {
      return e.kind === "Offline"
        ? `hi: ${node} is offline (not in the registry, or not answering)`
        : `hi: no answer from ${node} within 5 s`;
    }
    return `hi: ${(e as Error).message}`;
  }
});
