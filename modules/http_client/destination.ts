/**
 * Where a request goes, decided once: the URL's host is resolved here, every
 * address it resolves to is checked, and the connection is then made to the
 * checked address (pinned.ts), never to the name again. So a DNS answer that
 * changes between the check and the connection (rebinding) cannot swap a
 * local address in.
 *
 * Refused, before any connection is made:
 * - the node's own ports on a loopback or unspecified address, for everyone:
 *   its local-only endpoints (inject-message, install) trust loopback callers,
 *   and a process holding http-client's capability would otherwise gain root;
 * - any local address (addresses.ts) and the name localhost and its
 *   subdomains (RFC 6761), unless the process holds the local-network
 *   capability, which its manifest asks for and the install lists.
 */
import { lookup } from "node:dns/promises";
import { LOCAL_NETWORK_REQUEST } from "../../runtime/api/http_client.ts";
import { isLoopbackOrUnspecified, localRange, parseIp } from "./addresses.ts";

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "ws:": 80, "https:": 443, "wss:": 443 };

/** The checked address a request connects to. */
export interface Destination {
  /** An IP address: dotted IPv4 or IPv6 without brackets. */
  address: string;
  port: number;
}

export interface DestinationPolicy {
  /** The node's own listening ports, never called on a loopback or unspecified address. */
  ownPorts: number[];
  /** Whether the process holds the local-network capability. */
  mayReachLocal: boolean;
  /** The addresses a name resolves to (default: the system's resolver, as the platform's connections use). */
  resolve?: (host: string) => Promise<string[]>;
}

/** A destination refused by the rules above: the address (or name) and why, naming what would allow it. */
export class AddressRefused extends Error {
  constructor(readonly address: string, readonly reason: string) {
    super(reason);
  }
}

/** A name that did not resolve: the connection cannot be made. */
export class Unresolvable extends Error {}

/** The address `url` is to be fetched from, or AddressRefused / Unresolvable. */
export async function resolveDestination(url: URL, policy: DestinationPolicy): Promise<Destination> {
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const name = host.replace(/\.+$/, "").toLowerCase();
  const isLocalhost = name === "localhost" || name.endsWith(".localhost");
  if (isLocalhost && !policy.mayReachLocal) {
    throw new AddressRefused(host, `${host} names this machine (RFC 6761); ${mayNot}`);
  }
  const addresses = parseIp(host) ? [host] : await resolveName(isLocalhost ? "localhost" : host, policy);
  for (const address of addresses) {
    const range = localRange(address);
    if (policy.ownPorts.includes(port) && isLoopbackOrUnspecified(address)) {
      throw new AddressRefused(address, `${url.host} is this node's own port (${address}): http-client never calls it`);
    }
    if (range && !policy.mayReachLocal) {
      const via = address === host ? "" : ` (${host} resolves to it)`;
      throw new AddressRefused(address, `${address} is ${range}${via}; ${mayNot}`);
    }
  }
  return { address: addresses[0], port };
}

const mayNot = `a process reaches local addresses only with ${
  JSON.stringify(LOCAL_NETWORK_REQUEST)
} in its manifest's request_capabilities`;

async function resolveName(host: string, policy: DestinationPolicy): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await (policy.resolve ?? systemResolve)(host);
  } catch (e) {
    throw new Unresolvable(`could not resolve ${host}: ${(e as Error).message}`);
  }
  if (addresses.length === 0) throw new Unresolvable(`could not resolve ${host}: no addresses`);
  return addresses;
}

async function systemResolve(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
}
