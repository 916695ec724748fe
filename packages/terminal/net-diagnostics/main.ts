/** net-diagnostics:terminal:sys — `net-diagnostics`: the networking module's own report (links, traffic, refusals). */
import { moduleAddress, NET, Request, script } from "@hyperdeno/process_lib";

export default script(async (our, args) => {
  if (args.trim()) return "Usage: net-diagnostics";
  const r = await Request.to(moduleAddress(our.node, NET)).json("GetDiagnostics").sendAndAwaitResponse(5);
  return r.json<{ Diagnostics?: string }>().Diagnostics ?? `net-diagnostics: unexpected answer ${r.text()}`;
});
