/**
 * net:distro:sys: the book's NetAction and NetResponse (MessagePack, or JSON
 * when typed at a terminal), and HnsUpdate, the identity every registry
 * speaks, with its validation.
 */
import { type Address, isSafeNode, ParseError } from "../types.ts";

export type NetAction =
  | { ConnectionRequest: string }
  | { HnsUpdate: HnsUpdate }
  | { HnsBatchUpdate: HnsUpdate[] }
  | "GetPeers"
  | { GetPeer: string }
  | "GetDiagnostics"
  | "Sign"
  | { Verify: { from: Address; signature: number[] | Uint8Array } };

export type NetResponse =
  | { Accepted: string }
  | { Rejected: string }
  | { Peers: Identity[] }
  | { Peer: Identity | null }
  | { Diagnostics: string }
  | "Signed"
  | { Verified: boolean };

/** A peer as NetResponse shows it. */
export interface Identity {
  name: string;
  networking_key: string;
  routing: { Routers: string[] } | { Direct: { ip: string; ports: Record<string, number> } };
}

/** The book's HnsUpdate. public_key is hex (64 chars), ports e.g. {"tcp": 9001, "ws": 9002}. */
export interface HnsUpdate {
  name: string;
  public_key: string;
  ips: string[];
  ports: Record<string, number>;
  routers: string[];
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
