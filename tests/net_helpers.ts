/** Networked test nodes: a fake chain and nodes registered with it, all on loopback. */
import { FakeChain } from "../fakechain/server.ts";
import { bootNode, FIXTURES, install, type TestNode } from "./helpers.ts";
import type { NetworkOptions } from "../runtime/boot.ts";

export interface Net {
  chain: FakeChain;
  nodes: Record<string, TestNode>;
  close(): Promise<void>;
}

export async function bootNet(
  specs: Record<string, Partial<NetworkOptions>>,
  opts: { install?: string[] } = {},
): Promise<Net> {
  const chain = new FakeChain();
  const chainPort = await chain.listen(0);
  const nodes: Record<string, TestNode> = {};
  for (const [name, net] of Object.entries(specs)) {
    nodes[name] = await bootNode({ name, network: { chainPort, ...net } });
    for (const pkg of opts.install ?? ["netuser"]) await install(nodes[name], `${FIXTURES}${pkg}`);
  }
  // Everyone knows everyone once the registry has reached every node.
  const names = Object.keys(specs);
  const until = Date.now() + 5000;
  while (Date.now() < until && !Object.values(nodes).every((n) => names.every((m) => n.net!.hns.has(m)))) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    chain,
    nodes,
    async close() {
      for (const n of Object.values(nodes)) {
        await n.shutdown();
        await Deno.remove(n.opts.home, { recursive: true }).catch(() => {});
      }
      await chain.close();
    },
  };
}
