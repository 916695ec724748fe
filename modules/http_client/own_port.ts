/**
 * The node's own HTTP port is off limits to http-client. Its local-only
 * endpoints (inject-message, start-package, local_only bound paths) trust a
 * caller on loopback, and a connection the node makes to itself comes from
 * loopback: a process holding only http-client's capability could install a
 * package with root. So a URL whose port is one of `ports` and whose host is
 * (or resolves to) a loopback or unspecified address is refused before any
 * connection is made. Redirects are not followed (see http.ts), so every hop
 * a process takes passes here.
 *
 * Not covered: a DNS name that answers differently to this lookup and to the
 * connection's own a moment later (rebinding); closing that needs the server
 * to recognise the node's own outgoing connections.
 */
import { lookup } from "node:dns/promises";

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "ws:": 80, "https:": 443, "wss:": 443 };

/** Why `url` is refused (a line for the process and the log), or null when it may be fetched. */
export async function ownPortRefusal(url: URL, ports: number[]): Promise<string | null> {
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
  if (!ports.includes(port)) return null;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: string[];
  if (/^[\d.]+$/.test(host) || host.includes(":")) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return null; // unresolvable: the connection fails on its own
    }
  }
  const local = addresses.find(isLocalAddress);
  return local === undefined
    ? null
    : `${url.host} is this node's own HTTP port (${local}): http-client does not call it`;
}

/** Loopback (127.0.0.0/8, ::1) or unspecified (0.0.0.0, ::), in any spelling the URL parser leaves. */
export function isLocalAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (a === "::1" || a === "::" || a === "0:0:0:0:0:0:0:1" || a === "0:0:0:0:0:0:0:0") return true;
  const mapped = a.match(/^(?:0:0:0:0:0:|::)ffff:(.*)$/)?.[1];
  if (mapped !== undefined) {
    if (mapped.includes(".")) return isLocalAddress(mapped);
    const hi = parseInt(mapped.split(":")[0], 16);
    return hi >> 8 === 127 || (hi === 0 && /^0+:0+$/.test(mapped));
  }
  return a.startsWith("127.") || a === "0.0.0.0";
}
