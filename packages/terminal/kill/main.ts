/** kill:terminal:sys — `kill <PROCESS_ID>`: stops a process and removes it (its OnExit is not honoured). */
import { KERNEL, moduleAddress, Request, script, splitArgs } from "@hyperdeno/process_lib";

export default script(async (our, args) => {
  const [id, more] = splitArgs(args);
  if (!id || more || id === "-h" || id === "--help") {
    return "Usage: kill <PROCESS_ID>\n  e.g. kill my-app:my-app:template.os";
  }
  if (id.split(":").length !== 3) return `kill: "${id}" is not a process id (name:package:publisher)`;
  const kernel = moduleAddress(our.node, KERNEL);
  const known = (await Request.to(kernel).json({ Debug: { Process: id } }).sendAndAwaitResponse(5))
    .json<{ Debug: { Process: unknown } }>().Debug.Process;
  if (!known) return `kill: no process ${id} (top lists them)`;
  await Request.to(kernel).json({ KillProcess: id }).sendAndAwaitResponse(5);
  return `killed ${id}`;
});
