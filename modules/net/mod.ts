/**
 * net:distro:sys — the networking protocol. Messages for other nodes leave
 * here over Noise-encrypted links (TCP or WebSocket); messages from other
 * nodes arrive here, are checked, and go to the kernel. Local processes use
 * the book's NetAction API; remote text that is no NetAction is printed as a
 * "hello".
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { fromHex, type NodeKeys, toHex } from "../../runtime/keys.ts";
import { type KernelMessage, nodeOf, ParseError, processOf } from "../../runtime/types.ts";
import { type HnsUpdate, signedBy, type SignedIdentity } from "../../fakechain/identity.ts";
import { type FrameChannel, LinkClosed, TcpFrames, WsFrames } from "./frames.ts";
import { type Link, respond, type Us } from "./handshake.ts";
import { CONNECT_TIMEOUT_MS, OfflineError, Peers, withTimeout } from "./peers.ts";
import { decodeKernelMessage, decodeRouting, encodeKernelMessageParts } from "./wire.ts";
import { handleNetAction } from "./actions.ts";
import { Router } from "./router.ts";

export const NET = "net:distro:sys";
/** Inbound connections still handshaking at once; more are refused (flood control). */
const MAX_PENDING_INBOUND = 64;

export interface NetOptions {
  keys: NodeKeys;
  /** Port to listen on for TCP links (0: any free port). */
  tcpPort: number;
  /** Port to listen on for WebSocket links (0: any free port). */
  wsPort: number;
  /** Our routers when we are an indirect node (then we publish no ports). */
  routers: string[];
  idleMs: number;
  publish: ("tcp" | "ws")[];
}

export class NetModule implements RuntimeModule {
  readonly process = NET;
  readonly public = false;
  readonly hns = new Map<string, HnsUpdate>();
  private keyCache = new Map<string, Uint8Array>();
  readonly peers: Peers;
  readonly router: Router;
  readonly us: Us;
  private tcp: Deno.TcpListener | null = null;
  private ws: Deno.HttpServer | null = null;
  /** Inbound connections still handshaking; `silent` ones have not sent a byte-frame yet. */
  private pendingInbound = new Map<FrameChannel, { since: number; silent: boolean }>();
  private timers: ReturnType<typeof setInterval>[] = [];
  private stopped = false;
  readonly started = Date.now();
  tcpPort = 0;
  wsPort = 0;
  refused = 0;

  constructor(readonly k: KernelHandle, readonly opts: NetOptions) {
    this.us = { name: k.our, keys: opts.keys };
    this.peers = new Peers(this.us, this.hns, (n) => this.keyOf(n), {
      onLink: (l) => this.readLoop(l),
      log: (v, t) => k.print(v, t),
    });
    this.router = new Router(this);
  }

  get indirect(): boolean {
    return this.opts.routers.length > 0;
  }

  keyOf(name: string): Uint8Array | null {
    const id = this.hns.get(name);
    if (!id) return null;
    let key = this.keyCache.get(id.public_key);
    if (!key) this.keyCache.set(id.public_key, key = fromHex(id.public_key));
    return key;
  }

  /**
   * An identity from the registry (the indexer calls this for every change).
   * A peer we know keeps its key unless the change is signed by that key
   * (the fake chain's owner_signature): a registry that restarted or lies
   * cannot hand a known name to someone else.
   */
  hnsUpdate(u: SignedIdentity) {
    const prev = this.hns.get(u.name);
    if (prev && prev.public_key !== u.public_key) {
      const was = `${prev.public_key.slice(0, 16)}…`, now = `${u.public_key.slice(0, 16)}…`;
      if (!signedBy(prev.public_key, u, "owner_signature")) {
        this.k.print(
          0,
          `net: WARNING: the registry says ${u.name}'s key changed from ${was} to ${now}, but the change is not signed by ${u.name}'s key: refused, ${u.name} keeps its known key`,
        );
        return;
      }
      this.k.print(0, `net: ${u.name} changed its key from ${was} to ${now} (signed by its previous key)`);
      this.hns.set(u.name, u);
      // A new key: links made under the old one must be made again.
      for (const l of this.peers.all()) if (l.peer === u.name) l.close();
      return;
    }
    this.hns.set(u.name, u);
  }

  /** Starts listening; returns the identity to publish. */
  async listen(): Promise<Omit<HnsUpdate, "public_key">> {
    if (this.indirect) return { name: this.k.our, ips: [], ports: {}, routers: this.opts.routers };
    this.tcp = Deno.listen({ hostname: "127.0.0.1", port: this.opts.tcpPort });
    this.tcpPort = (this.tcp.addr as Deno.NetAddr).port;
    this.acceptTcp(this.tcp);
    const ready = Promise.withResolvers<number>();
    this.ws = Deno.serve({
      hostname: "127.0.0.1",
      port: this.opts.wsPort,
      onListen: (a) => ready.resolve((a as Deno.NetAddr).port),
      onError: () => new Response("error", { status: 500 }),
    }, (req, info) => {
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("hyperdeno net: WebSocket only", { status: 426 });
      }
      // The request is gone once upgraded: read its address first.
      const a = info.remoteAddr as Deno.NetAddr;
      const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 60 });
      socket.onopen = () => this.inbound(new WsFrames(socket, `ws:${a.hostname}:${a.port}`));
      return response;
    });
    this.wsPort = await ready.promise;
    const ports: Record<string, number> = {};
    if (this.opts.publish.includes("tcp")) ports.tcp = this.tcpPort;
    if (this.opts.publish.includes("ws")) ports.ws = this.wsPort;
    return { name: this.k.our, ips: ["127.0.0.1"], ports, routers: [] };
  }

  /** Background duties: close idle links; as an indirect node, stay connected to our routers. */
  startDuties() {
    this.timers.push(setInterval(() => this.peers.closeIdle(this.opts.idleMs), Math.min(60_000, this.opts.idleMs)));
    if (this.indirect) {
      const keepUp = () => {
        for (const r of this.opts.routers) {
          if (!this.peers.current(r)) this.peers.get(r).catch((e) => this.k.print(2, `net: router ${r}: ${e.message}`));
        }
      };
      keepUp();
      this.timers.push(setInterval(keepUp, 1000));
    }
    for (const t of this.timers) Deno.unrefTimer(t as unknown as number);
  }

  private async acceptTcp(listener: Deno.TcpListener) {
    try {
      for await (const conn of listener) this.inbound(new TcpFrames(conn));
    } catch {
      // listener closed
    }
  }

  /**
   * A new inbound connection: its first frame says whether it is a handshake
   * or a routing request. At most MAX_PENDING_INBOUND handshake at once; when
   * full, a newcomer evicts the oldest connection that has not said anything
   * yet (idle floods cannot starve honest peers), or is refused.
   */
  private async inbound(ch: FrameChannel) {
    if (this.pendingInbound.size >= MAX_PENDING_INBOUND) {
      const idle = [...this.pendingInbound].filter(([, p]) => p.silent).sort((a, b) => a[1].since - b[1].since)[0];
      this.refused++;
      if (!idle) {
        ch.close();
        return;
      }
      idle[0].close();
      this.pendingInbound.delete(idle[0]);
    }
    const slot = { since: Date.now(), silent: true };
    this.pendingInbound.set(ch, slot);
    try {
      const first = await withTimeout(ch.recv(), CONNECT_TIMEOUT_MS);
      slot.silent = false;
      if (first.length === 32) {
        const link = await respond(ch, first, this.us, (n) => this.keyOf(n), CONNECT_TIMEOUT_MS);
        this.peers.add(link);
      } else {
        const rr = decodeRouting(first);
        this.pendingInbound.delete(ch);
        this.router.request(ch, rr);
      }
    } catch (e) {
      this.k.print(1, `net: refused a connection from ${ch.remote}: ${(e as Error).message}`);
      ch.close();
    } finally {
      this.pendingInbound.delete(ch);
    }
  }

  /** Reads KernelMessages from a link until it fails; any bad message closes it. */
  private async readLoop(link: Link) {
    try {
      while (!this.stopped) {
        const bytes = await link.recv();
        const km = decodeKernelMessage(bytes);
        if (nodeOf(km.source) !== link.peer) {
          throw new ParseError(`${link.peer} sent a message claiming to be from ${nodeOf(km.source)}`);
        }
        if (nodeOf(km.target) !== this.k.our) throw new ParseError(`${link.peer} sent a message for ${km.target}`);
        this.k.deliverRemote(km);
      }
    } catch (e) {
      if (!(e instanceof LinkClosed)) this.k.print(1, `net: closing link to ${link.peer}: ${(e as Error).message}`);
    } finally {
      link.close();
      this.peers.remove(link);
    }
  }

  handle(km: KernelMessage) {
    if (nodeOf(km.target) !== this.k.our) return void this.sendRemote(km);
    if (processOf(km.target) !== NET || !("Request" in km.message)) return;
    handleNetAction(this, km);
  }

  private async sendRemote(km: KernelMessage) {
    const peer = nodeOf(km.target);
    try {
      if (!this.hns.has(peer)) throw new OfflineError(`${peer} is not in the registry`);
      const link = await this.peers.get(peer);
      await link.send(encodeKernelMessageParts(km));
    } catch (e) {
      this.k.print(e instanceof OfflineError ? 1 : 0, `net: ${km.source} → ${km.target}: ${(e as Error).message}`);
      this.k.fail(km.id, "Offline");
    }
  }

  diagnostics(): string {
    const up = Math.round((Date.now() - this.started) / 1000);
    const links = this.peers.all();
    const lines = [
      `net: ${this.k.our}, ${
        this.indirect
          ? `indirect via ${this.opts.routers.join(", ")}`
          : `direct on tcp ${this.tcpPort}, ws ${this.wsPort}`
      }, up ${up}s`,
      `  key ${
        toHex(this.opts.keys.publicKey).slice(0, 16)
      }…, ${this.hns.size} identities known, ${this.refused} connections refused`,
      `  ${links.length} link${links.length === 1 ? "" : "s"}:`,
    ];
    for (const l of links) {
      lines.push(
        `    ${l.peer.padEnd(16)} ${l.transport.padEnd(3)} ${l.initiatedByUs ? "out" : "in "} ` +
          `${l.messagesOut}/${l.messagesIn} msgs, ${fmtBytes(l.bytesOut)}/${fmtBytes(l.bytesIn)} out/in, ` +
          `up ${Math.round((Date.now() - l.since) / 1000)}s`,
      );
    }
    for (const p of this.router.describe()) lines.push(`  ${p}`);
    return lines.join("\n");
  }

  async shutdown() {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.peers.closeAll();
    this.router.close();
    try {
      this.tcp?.close();
    } catch { /* closed */ }
    await this.ws?.shutdown();
  }
}

function fmtBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
