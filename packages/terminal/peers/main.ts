/** peers:terminal:sys — `peers`: the nodes we have a link with, and how each is reached. */
import { moduleAddress, NET, Request, script } from "@hyperdeno/process_lib";
import { type Identity, routing } from "../net_identity.ts";

export default script(async (our, args) => {
  if (args.trim()) return "Usage: peers\n  lists the nodes this node has a link with (peer <NAME> for one)";
  const r = await Request.to(moduleAddress(our.node, NET)).json("GetPeers").sendAndAwaitResponse(5);
  const peers = r.json<{ Peers?: Identity[] }>().Peers ?? [];
  if (!peers.length) return "no peers: no link with another node yet (hi <NODE> <MESSAGE> makes one)";
  const w = Math.max(...peers.map((p) => p.name.length));
  return [
    `${peers.length} peer${peers.length === 1 ? "" : "s"}:`,
    ...peers.map((p) => `  ${p.name.padEnd(w)}  ${routing(p)}`),
  ]
    .join("\n");
});
