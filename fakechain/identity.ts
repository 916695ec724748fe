/**
 * HNS identities as the fake chain stores them, and the one message every
 * registration signs. A tool in any language registers by building the same
 * bytes: UTF-8 of the JSON array
 *   ["hyperdeno-register", name, public_key, ips, ports, routers, timestamp]
 * with `ports` as an object with sorted keys and no whitespace anywhere.
 */
import { fromHex, verify } from "../runtime/keys.ts";
import { isSafeNode, ParseError } from "../runtime/types.ts";

/** The book's HnsUpdate. public_key is hex (64 chars), ports e.g. {"tcp": 9001, "ws": 9002}. */
export interface HnsUpdate {
  name: string;
  public_key: string;
  ips: string[];
  ports: Record<string, number>;
  routers: string[];
}

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

const PORT_KINDS = new Set(["tcp", "ws", "udp", "wt"]);

export function validateUpdate(v: unknown): HnsUpdate {
  if (!v || typeof v !== "object") throw new ParseError("identity must be an object");
  const o = v as Record<string, unknown>;
  if (typeof o.name !== "string" || !isSafeNode(o.name)) {
    throw new ParseError("name must be a node name (a-z, 0-9, -, .)");
  }
  if (typeof o.public_key !== "string" || !/^[0-9a-f]{64}$/.test(o.public_key)) {
    throw new ParseError("public_key must be 64 lowercase hex characters (an Ed25519 key)");
  }
  const ips = o.ips ?? [];
  if (!Array.isArray(ips) || ips.length > 8 || !ips.every((ip) => typeof ip === "string" && ip.length <= 64)) {
    throw new ParseError("ips must be a list of up to 8 addresses");
  }
  const ports = o.ports ?? {};
  if (!ports || typeof ports !== "object" || Array.isArray(ports)) throw new ParseError("ports must be an object");
  for (const [k, p] of Object.entries(ports)) {
    if (!PORT_KINDS.has(k) || !Number.isInteger(p) || (p as number) < 1 || (p as number) > 65535) {
      throw new ParseError(`bad port ${k}=${p}: kinds are tcp, ws, udp, wt`);
    }
  }
  const routers = o.routers ?? [];
  if (!Array.isArray(routers) || routers.length > 16 || !routers.every((r) => typeof r === "string" && isSafeNode(r))) {
    throw new ParseError("routers must be a list of up to 16 node names");
  }
  if (routers.length === 0 && (ips.length === 0 || Object.keys(ports).length === 0)) {
    throw new ParseError("a node is direct (ips and ports) or indirect (routers)");
  }
  return {
    name: o.name,
    public_key: o.public_key,
    ips: ips as string[],
    ports: Object.fromEntries(Object.entries(ports as Record<string, number>).sort()),
    routers: routers as string[],
  };
}

export function registrationMessage(u: HnsUpdate, timestamp: number): Uint8Array {
  const ports = Object.fromEntries(Object.entries(u.ports).sort());
  return new TextEncoder().encode(
    JSON.stringify(["hyperdeno-register", u.name, u.public_key, u.ips, ports, u.routers, timestamp]),
  );
}
