/** peer:terminal:sys — `peer <NAME>`: what we know of one node (its key and how it is reached). */
import { moduleAddress, NET, Request, script, splitArgs } from "@hyperdeno/process_lib";
import { type Identity, routing } from "../net_identity.ts";

export default script(async (our, args) => {
  const [name, more] = splitArgs(args);
  if (!name || more || name === "-h" || name === "--help") return "Usage: peer <NAME>\n  e.g. peer fake2.dev";
  const r = await Request.to(moduleAddress(our.node, NET)).json({ GetPeer: name }).sendAndAwaitResponse(5);
  const peer = r.json<{ Peer?: Identity | null }>().Peer;
  if (!peer) return `peer: no node ${name} in the registry (check the name; peers lists those we are linked with)`;
  return `${peer.name}\n  key      ${peer.networking_key}\n  routing  ${routing(peer)}`;
});
