/**
 * clear-state:terminal:sys — `clear-state <PROCESS_ID>`: deletes a process's
 * saved state. A running process keeps what it holds in memory; it starts
 * from nothing at its next start.
 */
import { moduleAddress, Request, script, splitArgs, STATE } from "@hyperdeno/process_lib";

export default script(async (our, args) => {
  const [id, more] = splitArgs(args);
  if (!id || more || id === "-h" || id === "--help") {
    return "Usage: clear-state <PROCESS_ID>\n  e.g. clear-state my-app:my-app:template.os";
  }
  if (id.split(":").length !== 3) return `clear-state: "${id}" is not a process id (name:package:publisher)`;
  const r = await Request.to(moduleAddress(our.node, STATE)).json({ DeleteState: id }).sendAndAwaitResponse(5);
  const answer = r.json<unknown>();
  if (answer !== "DeleteState") return `clear-state: ${JSON.stringify(answer)}`;
  return `cleared the state of ${id} (a running process keeps what it holds until it restarts)`;
});
