/**
 * net:distro:sys: the book's NetAction and NetResponse (MessagePack in the
 * reference's shapes — structs as arrays, `Vec<u8>` as arrays of integers —
 * or JSON when typed at a terminal), and HnsUpdate, the identity every
 * registry speaks, with its validation.
 */
import { encode } from "@msgpack/msgpack";
import { type Address, isSafeNode, parseAddress, ParseError, toBytes } from "../types.ts";

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

/** A `Vec<u8>` as the reference writes it. */
const ints = (b: Uint8Array) => Array.from(b);

function hnsToWire(u: HnsUpdate): unknown[] {
  return [u.name, `0x${u.public_key}`, u.ips, u.ports, u.routers];
}

function hnsFromWire(v: unknown): HnsUpdate {
  if (!Array.isArray(v)) return validateUpdate(v);
  const [name, key, ips, ports, routers] = v;
  const public_key = typeof key === "string" ? key.replace(/^0x/, "") : key;
  return validateUpdate({ name, public_key, ips, ports, routers });
}

function identityToWire(i: Identity): unknown[] {
  const r = i.routing;
  const routing = "Routers" in r ? { Routers: r.Routers } : { Direct: [r.Direct.ip, r.Direct.ports] };
  return [i.name, i.networking_key, routing];
}

/** NetAction as the reference's rmp-serde writes it. */
export function encodeNetAction(a: NetAction): Uint8Array {
  if (typeof a === "string") return encode(a);
  if ("HnsUpdate" in a) return encode({ HnsUpdate: hnsToWire(a.HnsUpdate) });
  if ("HnsBatchUpdate" in a) return encode({ HnsBatchUpdate: a.HnsBatchUpdate.map(hnsToWire) });
  if ("Verify" in a) return encode({ Verify: [a.Verify.from, ints(toBytes(a.Verify.signature, "signature"))] });
  return encode(a);
}

/**
 * A NetAction in the reference's shapes or in the object shapes JSON and
 * JavaScript processes use (struct variants as objects); the result has the
 * object shapes. Anything else is a ParseError.
 */
export function decodeNetAction(v: unknown): NetAction {
  if (v === "GetPeers" || v === "GetDiagnostics" || v === "Sign") return v;
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ParseError("not a NetAction");
  const entries = Object.entries(v);
  if (entries.length !== 1) throw new ParseError("a NetAction is one variant");
  const [name, arg] = entries[0];
  switch (name) {
    case "ConnectionRequest":
    case "GetPeer":
      if (typeof arg !== "string") throw new ParseError(`${name} takes a node name`);
      return { [name]: arg } as NetAction;
    case "HnsUpdate":
      return { HnsUpdate: hnsFromWire(arg) };
    case "HnsBatchUpdate":
      if (!Array.isArray(arg)) throw new ParseError("HnsBatchUpdate takes a list");
      return { HnsBatchUpdate: arg.map(hnsFromWire) };
    case "Verify": {
      const [from, signature] = Array.isArray(arg) ? arg : [arg?.from, arg?.signature];
      if (typeof from !== "string") throw new ParseError("Verify takes from and signature");
      parseAddress(from);
      return { Verify: { from, signature: toBytes(signature, "signature") } };
    }
  }
  throw new ParseError(`${name} is not a NetAction`);
}

/** NetResponse as the reference's rmp-serde writes it. */
export function encodeNetResponse(r: NetResponse): Uint8Array {
  if (typeof r === "string") return encode(r);
  if ("Peers" in r) return encode({ Peers: r.Peers.map(identityToWire) });
  if ("Peer" in r) return encode({ Peer: r.Peer && identityToWire(r.Peer) });
  return encode(r);
}

function identityFromWire(v: unknown): Identity {
  if (!Array.isArray(v)) return v as Identity;
  const [name, networking_key, routing] = v as [string, string, Record<string, unknown>];
  const direct = routing?.Direct;
  return {
    name,
    networking_key,
    routing: Array.isArray(direct) ? { Direct: { ip: direct[0], ports: direct[1] } } : routing as Identity["routing"],
  };
}

/** A NetResponse as decoded MessagePack (the reference's shapes) in the object shapes of this file's types. */
export function decodeNetResponse(v: unknown): NetResponse {
  if (v === "Signed") return v;
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ParseError("not a NetResponse");
  const r = v as Record<string, unknown>;
  if ("Peers" in r && Array.isArray(r.Peers)) return { Peers: r.Peers.map(identityFromWire) };
  if ("Peer" in r) return { Peer: r.Peer === null ? null : identityFromWire(r.Peer) };
  return v as NetResponse;
}
