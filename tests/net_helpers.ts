/** Networked test nodes with fixture packages by name (runtime/testing.ts does the work). */
import { bootNet as bootNodes, type Net, type TestChain } from "../runtime/testing.ts";
import type { NetworkOptions } from "../runtime/boot.ts";
import { FIXTURES } from "./helpers.ts";

export type { Net };

/** runtime/testing.ts's bootNet, installing fixtures by name on every node (netuser unless told). */
export function bootNet(
  specs: Record<string, Partial<NetworkOptions>>,
  opts: { install?: string[]; chain?: TestChain } = {},
): Promise<Net> {
  return bootNodes(specs, { install: (opts.install ?? ["netuser"]).map((p) => `${FIXTURES}${p}`), chain: opts.chain });
}
