/**
 * Platform HTTP clients that connect only to one checked address: plain
 * http and ws go straight to it (the client's "tcp" transport: the request
 * still names the URL's host), https and wss through the TLS tunnel to it
 * (tunnel.ts). A client is kept per address, port, scheme kind and HTTP
 * version, so connections are reused; the least recently used idle ones are
 * closed past MAX_CLIENTS. A WebSocket outlives the client that opened it.
 */
import type { Destination } from "./destination.ts";
import type { TlsTunnel } from "./tunnel.ts";

const MAX_CLIENTS = 32;

interface Pinned {
  client: Deno.HttpClient;
  token: string | null;
  users: number;
}

/** A pinned client lent for one request or one WebSocket handshake. */
export interface Lease {
  client: Deno.HttpClient;
  /** Why the TLS tunnel could not reach the address, when it could not. */
  tunnelFailure(): string | undefined;
  release(): void;
}

export class PinnedClients {
  /** In order of last use, least recent first. */
  private pinned = new Map<string, Pinned>();

  constructor(private tunnel: TlsTunnel) {}

  /** A client for `dest`; `tls` for https and wss; `version` "HTTP/1.1", "HTTP/2.0" or null for either. */
  lease(dest: Destination, tls: boolean, version: string | null): Lease {
    const key = `${tls ? "tls" : "plain"} ${version} ${dest.address} ${dest.port}`;
    let p = this.pinned.get(key);
    if (p) this.pinned.delete(key);
    else p = this.create(dest, tls, version);
    this.pinned.set(key, p);
    p.users++;
    const pinned = p;
    let released = false;
    return {
      client: p.client,
      tunnelFailure: () => pinned.token ? this.tunnel.failure(pinned.token) : undefined,
      release: () => {
        if (released) return;
        released = true;
        pinned.users--;
        this.evict();
      },
    };
  }

  shutdown() {
    for (const p of this.pinned.values()) this.drop(p);
    this.pinned.clear();
  }

  private create(dest: Destination, tls: boolean, version: string | null): Pinned {
    const versions = version === null ? {} : { http1: version !== "HTTP/2.0", http2: version === "HTTP/2.0" };
    if (!tls) {
      const hostname = dest.address.includes(":") ? `[${dest.address}]` : dest.address;
      const client = Deno.createHttpClient({ ...versions, proxy: { transport: "tcp", hostname, port: dest.port } });
      return { client, token: null, users: 0 };
    }
    const { url, token } = this.tunnel.open(dest);
    const client = Deno.createHttpClient({ ...versions, proxy: { url, basicAuth: { username: token, password: "" } } });
    return { client, token, users: 0 };
  }

  private evict() {
    for (const [key, p] of this.pinned) {
      if (this.pinned.size <= MAX_CLIENTS) return;
      if (p.users > 0) continue;
      this.pinned.delete(key);
      this.drop(p);
    }
  }

  private drop(p: Pinned) {
    p.client.close();
    if (p.token) this.tunnel.forget(p.token);
  }
}
