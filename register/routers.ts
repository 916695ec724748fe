/**
 * Routers for an indirect node, chosen from chain. The reference offers three of its twelve
 * `default-router-N.hypr` at random; those are Base's. On any chain the candidates are the direct nodes the chain
 * holds (what the registration's indexer has read so far, and the reference's defaults where the chain has them as
 * direct nodes), the reference's defaults first; three are picked.
 */
import type { HnsUpdate } from "../runtime/api/net.ts";
import type { ChainClient } from "../chain/client.ts";
import { fullName, notesOnChain } from "./wallet_calls.ts";

export const REFERENCE_ROUTERS = Array.from({ length: 12 }, (_, i) => `default-router-${i + 1}.hypr`);
const PICK = 3;
const LISTED = 50;

const isDirect = (n: HnsUpdate) => n.public_key !== "" && n.ips.length > 0 && Object.keys(n.ports).length > 0;

/** Direct nodes that can route: the reference's defaults that are on this chain, then those indexed. */
export async function routerCandidates(chain: ChainClient, indexed: Iterable<HnsUpdate>): Promise<string[]> {
  const known = [...indexed].filter(isDirect).map((n) => n.name);
  const defaults: string[] = [];
  await Promise.all(REFERENCE_ROUTERS.map(async (r) => {
    if (known.includes(r)) return defaults.push(r);
    try {
      const n = await notesOnChain(chain, r);
      if (n.netKey && n.ip && (n.tcp || n.ws)) defaults.push(r);
    } catch { /* unreachable: the others may do */ }
  }));
  const rest = known.filter((n) => !defaults.includes(n)).sort();
  return [...defaults.sort(), ...rest].slice(0, LISTED);
}

/** Up to three of the candidates, the reference's defaults first, at random among equals. */
export function pickRouters(candidates: string[]): string[] {
  const defaults = candidates.filter((c) => REFERENCE_ROUTERS.includes(c));
  const pool = defaults.length ? defaults : candidates;
  return [...pool].sort(() => Math.random() - 0.5).slice(0, PICK);
}

/** A list of router names typed by the user: each a name, at least one, at most 16. */
export function parseRouters(v: unknown): string[] {
  const list = Array.isArray(v) ? v : typeof v === "string" ? v.split(/[\s,]+/) : [];
  const names = [...new Set(list.map((r) => String(r).trim()).filter(Boolean).map(fullNameOrThrow))];
  if (names.length === 0 || names.length > 16) throw new Error("an indirect node needs 1 to 16 routers");
  return names;
}

function fullNameOrThrow(r: string): string {
  if (!r.includes(".")) throw new Error(`router "${r.slice(0, 60)}" is not a full name (like router.os)`);
  return fullName(r);
}
