/** kfetch:terminal:sys — `kfetch`: this node at a glance (name, key, routing, processes, peers). */
import { KERNEL, moduleAddress, NET, Request, script } from "@hyperdeno/process_lib";
import { type Identity, routing } from "../net_identity.ts";

export default script(async (our) => {
  const map = (await Request.to(moduleAddress(our.node, KERNEL)).json({ Debug: "ProcessMap" }).sendAndAwaitResponse(5))
    .json<
      {
        Debug: {
          ProcessMap: Record<string, { runtime_module?: boolean; script?: boolean; status?: { running: boolean } }>;
        };
      }
    >()
    .Debug.ProcessMap;
  const entries = Object.values(map).filter((e) => !e.script);
  const running = entries.filter((e) => e.status?.running).length;
  const modules = entries.filter((e) => e.runtime_module).length;
  let identity = "no networking";
  let peers = 0;
  try {
    const net = moduleAddress(our.node, NET);
    const me =
      (await Request.to(net).json({ GetPeer: our.node }).sendAndAwaitResponse(2)).json<{ Peer: Identity | null }>()
        .Peer;
    identity = me ? `key ${me.networking_key.slice(0, 16)}…, ${routing(me)}` : "not in the registry";
    peers = ((await Request.to(net).json("GetPeers").sendAndAwaitResponse(2)).json<{ Peers: Identity[] }>().Peers ?? [])
      .length;
  } catch { /* no networking */ }
  return [
    `   /\\_/\\     ${our.node}`,
    `  ( o.o )    hyperdeno node`,
    `   > ^ <     ${identity}`,
    `             ${entries.length - modules} processes (${running} running), ${modules} runtime modules`,
    `             ${peers} peer${peers === 1 ? "" : "s"} linked`,
  ].join("\n");
});
