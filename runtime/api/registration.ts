/**
 * Registrations as the fake chain stores them, and the one message every
 * registration signs. A tool in any language registers by building the same
 * bytes: UTF-8 of the JSON array
 *   ["hyperdeno-register", name, public_key, ips, ports, routers, timestamp]
 * with `ports` as an object with sorted keys and no whitespace anywhere.
 */
import { verify } from "../keys.ts";
import { fromHex } from "../bytes.ts";
import type { HnsUpdate } from "./net.ts";

export interface Registration extends HnsUpdate {
  /** Milliseconds since the epoch; must grow with every registration of a name. */
  timestamp: number;
  /** Ed25519 signature (hex) by public_key over registrationMessage(). */
  signature: string;
  /** When public_key changes: signature (hex) by the key registered now. */
  owner_signature?: string;
}

/**
 * An identity as the chain publishes it (/nodes, /watch): with the signed
 * registration that put it there, so a node can check a key change itself.
 */
export type SignedIdentity = HnsUpdate & Partial<Pick<Registration, "timestamp" | "signature" | "owner_signature">>;

/** Whether `r` verifies with `key` (hex): its own signature, or as owner_signature by the key before. */
export function signedBy(key: string, r: SignedIdentity, which: "signature" | "owner_signature"): boolean {
  const sig = r[which];
  if (typeof sig !== "string" || !Number.isSafeInteger(r.timestamp)) return false;
  try {
    return verify(fromHex(key), registrationMessage(r, r.timestamp!), fromHex(sig));
  } catch {
    return false;
  }
}

export function registrationMessage(u: HnsUpdate, timestamp: number): Uint8Array {
  const ports = Object.fromEntries(Object.entries(u.ports).sort());
  return new TextEncoder().encode(
    JSON.stringify(["hyperdeno-register", u.name, u.public_key, u.ips, ports, u.routers, timestamp]),
  );
}
