/**
 * The link table: one encrypted link per peer, dialed on first use (TCP,
 * then WebSocket, from the peer's published ports; through its routers when
 * it is indirect), reused, and closed when idle. Messages for a peer that is
 * still connecting wait for the handshake; a peer that cannot be reached
 * fails their requests Offline at once.
 *
 * When two nodes dial each other at the same moment, both keep the link
 * initiated by the node whose name sorts first, so they agree on one.
 */
import type { HnsUpdate } from "../../runtime/api/net.ts";
import { sign } from "../../runtime/keys.ts";
import type { FrameChannel } from "./frames.ts";
import { openWs, TcpFrames } from "./frames.ts";
import { HandshakeError, initiate, type KeyLookup, type Link, respond, type Us } from "./handshake.ts";
import { encodeRouting, PROTOCOL_VERSION } from "./wire.ts";
import { withTimeout } from "../../runtime/timeout.ts";

export const CONNECT_TIMEOUT_MS = 5000;

export interface PeerEvents {
  /** A link is up: start reading from it. */
  onLink(link: Link): void;
  log(verbosity: number, text: string): void;
}

export class OfflineError extends Error {
  override name = "OfflineError";
}

export class Peers {
  private links = new Map<string, Link[]>();
  private dialing = new Map<string, Promise<Link>>();

  constructor(
    private us: Us,
    private hns: Map<string, HnsUpdate>,
    private lookup: KeyLookup,
    private events: PeerEvents,
    /** Our routers, when we are an indirect node. */
    private ourRouters: string[] = [],
  ) {}

  /** The link messages to `peer` go on, if one is up. */
  current(peer: string): Link | undefined {
    const ls = this.links.get(peer);
    if (!ls?.length) return undefined;
    const keeperInitiatedByUs = this.us.name < peer;
    return ls.find((l) => l.initiatedByUs === keeperInitiatedByUs) ?? ls[0];
  }

  all(): Link[] {
    return [...this.links.values()].flat();
  }

  /** The link to `peer`, dialing it if needed. Rejects with OfflineError. */
  get(peer: string): Promise<Link> {
    const l = this.current(peer);
    if (l) return Promise.resolve(l);
    let d = this.dialing.get(peer);
    if (!d) {
      d = this.dial(peer).finally(() => this.dialing.delete(peer));
      this.dialing.set(peer, d);
    }
    return d;
  }

  add(link: Link) {
    const ls = this.links.get(link.peer) ?? [];
    ls.push(link);
    this.links.set(link.peer, ls);
    this.events.onLink(link);
    // Two links to one peer (both dialed at once): the other is let go once quiet.
    if (ls.length > 1) {
      const keep = this.current(link.peer)!;
      for (const l of ls) if (l !== keep) setTimeout(() => l.close(), 2000);
    }
  }

  remove(link: Link) {
    const ls = this.links.get(link.peer)?.filter((l) => l !== link) ?? [];
    if (ls.length) this.links.set(link.peer, ls);
    else this.links.delete(link.peer);
  }

  private async dial(peer: string): Promise<Link> {
    const id = this.hns.get(peer);
    if (!id) throw new OfflineError(`${peer} is not in the registry`);
    const errors: string[] = [];
    if (id.routers.length === 0) {
      // Toward one of our routers the handshake asks it to route for us (proxy_request), as the reference's does.
      try {
        const link = await this.dialDirect(id, null, this.ourRouters.includes(peer));
        this.add(link);
        return link;
      } catch (e) {
        // An indirect node may reach nothing but its routers: a router passes a connection to a direct node on.
        if (!this.ourRouters.length || this.ourRouters.includes(peer)) throw e;
        errors.push(`direct: ${(e as Error).message}`);
      }
    }
    const routers = id.routers.length ? id.routers : this.ourRouters;
    for (const router of routers) {
      if (router === this.us.name) continue; // we cannot route through ourselves
      const r = this.hns.get(router);
      if (!r || r.routers.length) {
        errors.push(`${router}: not a direct node`);
        continue;
      }
      try {
        const link = await this.dialDirect(r, peer);
        this.add(link);
        return link;
      } catch (e) {
        errors.push(`${router}: ${(e as Error).message}`);
      }
    }
    throw new OfflineError(
      `${peer} is unreachable${id.routers.length ? " through its routers" : ""} (${errors.join("; ") || "no routers"})`,
    );
  }

  /** Opens a channel to a direct node, in the book's priority order: TCP, then WebSocket. */
  async open(id: HnsUpdate): Promise<FrameChannel> {
    const ip = id.ips[0];
    if (id.ports.tcp) {
      try {
        const conn = await withTimeout(Deno.connect({ hostname: ip, port: id.ports.tcp }), CONNECT_TIMEOUT_MS);
        return new TcpFrames(conn);
      } catch (e) {
        if (!id.ports.ws) {
          throw new OfflineError(`${id.name} does not answer on tcp ${ip}:${id.ports.tcp}: ${(e as Error).message}`);
        }
      }
    }
    if (id.ports.ws) {
      try {
        return await openWs(`ws://${ip}:${id.ports.ws}/`, CONNECT_TIMEOUT_MS);
      } catch (e) {
        throw new OfflineError(`${id.name} does not answer on ws ${ip}:${id.ports.ws}: ${(e as Error).message}`);
      }
    }
    throw new OfflineError(`${id.name} publishes no tcp or ws port`);
  }

  /**
   * Dials a direct node and handshakes with it; with `routedTo`, asks it (a
   * router) to pass the connection through to that indirect node instead.
   */
  async dialDirect(id: HnsUpdate, routedTo: string | null, proxyRequest = false): Promise<Link> {
    const ch = await this.open(id);
    try {
      if (routedTo) await ch.send([this.routingRequest(routedTo, id.name)]);
      return await initiate(ch, this.us, routedTo ?? id.name, this.lookup, CONNECT_TIMEOUT_MS, proxyRequest);
    } catch (e) {
      ch.close();
      if (e instanceof HandshakeError) throw new OfflineError(e.message);
      throw new OfflineError(`handshake with ${routedTo ?? id.name} failed: ${(e as Error).message}`);
    }
  }

  /** A RoutingRequest asking `router` to connect us to `target`, signed over target ++ router. */
  routingRequest(target: string, router: string): Uint8Array {
    return encodeRouting({
      protocol_version: PROTOCOL_VERSION,
      source: this.us.name,
      signature: sign(this.us.keys, new TextEncoder().encode(target + router)),
      target,
    });
  }

  /**
   * As an indirect node: a router says `peer` wants us. Connect back through
   * it and answer the handshake, all within 5 s (as the reference gives it).
   */
  async acceptThroughRouter(router: string, peer: string): Promise<Link> {
    const r = this.hns.get(router);
    if (!r) throw new OfflineError(`router ${router} is not in the registry`);
    if (!this.hns.has(peer)) throw new OfflineError(`${peer} is not in the registry`);
    let ch: FrameChannel | null = null;
    try {
      const link = await withTimeout(
        (async () => {
          ch = await this.open(r);
          await ch.send([this.routingRequest(peer, router)]);
          return await respond(ch, await ch.recv(), this.us, this.lookup, CONNECT_TIMEOUT_MS);
        })(),
        CONNECT_TIMEOUT_MS,
        () => new OfflineError(`${router} did not pass ${peer}'s connection on within 5 s`),
      );
      if (link.peer !== peer) throw new HandshakeError(`expected ${peer} through ${router}, got ${link.peer}`);
      this.add(link);
      return link;
    } catch (e) {
      (ch as FrameChannel | null)?.close();
      throw e;
    }
  }

  /** Closes links that carried nothing for `idleMs`. */
  closeIdle(idleMs: number) {
    const now = Date.now();
    for (const l of this.all()) {
      if (now - l.lastActive > idleMs) {
        this.events.log(1, `net: closing idle link to ${l.peer}`);
        l.close();
      }
    }
  }

  closeAll() {
    for (const l of this.all()) l.close();
    this.links.clear();
  }
}
