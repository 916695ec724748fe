/**
 * How an https or wss request reaches the address destination.ts checked.
 * The platform's fetch and WebSocket take no resolver and no connect
 * function, but they take a proxy: this is one, on loopback, speaking HTTP
 * CONNECT only to the node's own pinned clients (each holds a route's random
 * token) and connecting each tunnel to the address its route was opened for,
 * whatever name the CONNECT line asks. TLS runs end to end through it, between
 * the platform and the server, verified against the URL's host name as
 * without a proxy. Plain http and ws need no tunnel (pinned.ts).
 */
import { encodeBase64 } from "../../runtime/bytes.ts";
import type { Destination } from "./destination.ts";

/** The most a CONNECT request's head may be. */
const HEAD_BYTES = 8192;
/** How long a client has to send its CONNECT, and a tunnel to reach its server. */
const HANDSHAKE_MS = 10_000;
const CONNECT_MS = 30_000;

interface Route extends Destination {
  /** Why the last tunnel on this route failed, for the process (the platform says only "unsuccessful tunnel"). */
  failure?: string;
}

export class TlsTunnel {
  private listener: Deno.TcpListener | null = null;
  private routes = new Map<string, Route>();
  private conns = new Set<Deno.Conn>();

  /** The proxy URL and credentials that tunnel to `dest`, and the token naming the route. */
  open(dest: Destination): { url: string; token: string } {
    const token = encodeBase64(crypto.getRandomValues(new Uint8Array(18))).replace(/[+/=]/g, "x");
    this.routes.set(token, { ...dest });
    return { url: `http://127.0.0.1:${this.listen().addr.port}`, token };
  }

  forget(token: string) {
    this.routes.delete(token);
  }

  failure(token: string): string | undefined {
    return this.routes.get(token)?.failure;
  }

  /** The tunnel's port once it listens (the node never calls it), or null. */
  port(): number | null {
    return this.listener?.addr.port ?? null;
  }

  close() {
    this.listener?.close();
    this.listener = null;
    for (const c of this.conns) c.close();
    this.conns.clear();
    this.routes.clear();
  }

  private listen(): Deno.TcpListener {
    if (this.listener) return this.listener;
    const listener = this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    (async () => {
      for await (const conn of listener) {
        this.conns.add(conn);
        this.serve(conn).catch(() => {}).finally(() => {
          this.conns.delete(conn);
          try {
            conn.close();
          } catch { /* closed already */ }
        });
      }
    })().catch(() => {});
    return listener;
  }

  private async serve(conn: Deno.Conn) {
    const read = await readHead(conn);
    if (!read) return;
    const { head, rest } = read;
    const target = head.match(/^CONNECT (\S+):(\d+) HTTP\/1\.1\r\n/);
    const auth = head.match(/\r\nproxy-authorization:\s*basic\s+(\S+)/i)?.[1];
    const token = auth ? atob(auth).split(":")[0] : "";
    const route = this.routes.get(token);
    if (!target || !route || Number(target[2]) !== route.port) {
      return await reply(conn, "407 Proxy Authentication Required");
    }
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({
        hostname: route.address,
        port: route.port,
        signal: AbortSignal.timeout(CONNECT_MS),
      });
    } catch (e) {
      route.failure = `could not connect to ${route.address} port ${route.port}: ${(e as Error).message}`;
      return await reply(conn, "502 Bad Gateway");
    }
    route.failure = undefined;
    this.conns.add(upstream);
    try {
      await reply(conn, "200 Connection Established");
      if (rest.length) await upstream.write(rest);
      await Promise.race([
        conn.readable.pipeTo(upstream.writable, { preventClose: false }).catch(() => {}),
        upstream.readable.pipeTo(conn.writable, { preventClose: true }).catch(() => {}),
      ]);
    } finally {
      this.conns.delete(upstream);
      try {
        upstream.close();
      } catch { /* closed already */ }
    }
  }
}

/** The CONNECT request's head and any bytes after it, or null for a client that sent none in time. */
async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array } | null> {
  const buf = new Uint8Array(HEAD_BYTES);
  let n = 0;
  const timer = setTimeout(() => conn.close(), HANDSHAKE_MS);
  try {
    while (n < buf.length) {
      const got = await conn.read(buf.subarray(n));
      if (got === null) return null;
      n += got;
      const text = new TextDecoder("latin1").decode(buf.subarray(0, n));
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) return { head: text.slice(0, end + 2), rest: buf.slice(end + 4, n) };
    }
    return null;
  } finally {
    clearTimeout(timer);
  }
}

async function reply(conn: Deno.Conn, status: string) {
  await conn.write(new TextEncoder().encode(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\n\r\n`));
}
