/**
 * A real node's identity in its home (<home>/identity.json, which boot.ts's claimHome also reads for the name):
 * the name its owner registered, on which chain, and how it is reached, as the registration wrote it on chain.
 * Its key is <home>/keys.json (runtime/keys.ts), encrypted with the node's password.
 */
import { readJsonSync, writeFileAtomicSync } from "../runtime/kernel/persist.ts";
import { hasKeys } from "../runtime/keys.ts";

export type Routing = { direct: { ip: string; tcp: number; ws: number } } | { routers: string[] };

export interface RealIdentity {
  name: string;
  chain_id: number;
  routing: Routing;
}

const path = (home: string) => `${home}/identity.json`;

/** The home's registered identity (with its keys), or null for a home with none yet. */
export function readIdentity(home: string): RealIdentity | null {
  const id = readJsonSync<Partial<RealIdentity> | null>(path(home), null);
  if (!id || typeof id.name !== "string" || typeof id.chain_id !== "number" || !id.routing || !hasKeys(home)) {
    return null;
  }
  return id as RealIdentity;
}

/** What a home holds: nothing, a registered identity, or something else (a fake node's). */
export function homeHolds(home: string): "nothing" | "identity" | "other" {
  if (readIdentity(home)) return "identity";
  return readJsonSync<unknown>(path(home), null) === null && !hasKeys(home) ? "nothing" : "other";
}

export function writeIdentity(home: string, id: RealIdentity) {
  Deno.mkdirSync(home, { recursive: true });
  writeFileAtomicSync(path(home), new TextEncoder().encode(JSON.stringify(id)));
}
