/** Whether a node name means anything here, said the same way by every script, the web API and the downloads. */
import { net } from "@hyperdeno/process_lib";

/** The one sentence for a node this node has never heard of. */
export function unknownNode(node: string): string {
  return `no node named ${node} is known to this node: check the name (the peers command lists the nodes it knows)`;
}

/** Null when `node` is known to this node's net; else unknownNode's sentence. */
export async function nodeRefusal(node: string): Promise<string | null> {
  return await net.getPeer(node).catch(() => null) ? null : unknownNode(node);
}
