/**
 * What the home page says about the node itself: its version, and the peers
 * it has links with now, asked of net:distro:sys (GetPeers) as any process
 * would: a module does not reach into another.
 */
import { decode } from "@msgpack/msgpack";
import type { KernelHandle } from "../../runtime/kernel/module.ts";
import { decodeNetResponse, encodeNetAction } from "../../runtime/api/net.ts";
import { HTTP_SERVER, NET } from "../../runtime/api/processes.ts";
import { formatAddress } from "../../runtime/types.ts";
import { VERSION } from "../../runtime/version.ts";

export interface NodeInfo {
  version: string;
  /** Names of the nodes linked now, sorted; null when net did not answer. */
  peers: string[] | null;
}

export async function nodeInfo(k: KernelHandle): Promise<NodeInfo> {
  let peers: string[] | null = null;
  try {
    const km = await k.request(HTTP_SERVER, {
      target: formatAddress(k.our, NET),
      body: encodeNetAction("GetPeers"),
      timeoutSeconds: 2,
    });
    const body = "Response" in km.message ? km.message.Response[0].body : null;
    const r = body ? decodeNetResponse(decode(body)) : null;
    if (r && typeof r === "object" && "Peers" in r) peers = r.Peers.map((p) => p.name).sort();
  } catch { /* the page shows the rest */ }
  return { version: VERSION, peers };
}
