/** How the terminal's scripts show a node's identity (net's Identity: name, key, routing). */
export type { Identity } from "../../runtime/api/net.ts";
import type { Identity } from "../../runtime/api/net.ts";

export function routing(id: Identity): string {
  if ("Routers" in id.routing) return `indirect via ${id.routing.Routers.join(", ")}`;
  const { ip, ports } = id.routing.Direct;
  return `direct at ${ip} (${Object.entries(ports).map(([k, p]) => `${k} ${p}`).join(", ")})`;
}
