/**
 * net:distro:sys — the networking protocol. Messages for other nodes leave
 * here over Noise-encrypted links (TCP or WebSocket); messages from other
 * nodes arrive here, are checked, and go to the kernel. Local processes use
 * the book's NetAction API; remote text that is no NetAction is printed as a
 * "hello".
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import type { NodeKeys } from "../../runtime/keys.ts";
import { fromHex, toHex } from "../../runtime/bytes.ts";
import { type KernelMessage, nodeOf, ParseError, processOf } from "../../runtime/types.ts";
import type { HnsUpdate } from "../../runtime/api/net.ts";
import { NET } from "../../runtime/api/processes.ts";
import { type FrameChannel, LinkClosed, NotSent, TcpFrames } from "./frames.ts";
import { type Link, respond, type Us } from "./handshake.ts";
import { OfflineError, Peers } from "./peers.ts";
import { guardedListen, GuardedListener, type ListenerLimits, type Slot } from "../../runtime/sockets/listener.ts";
import { acceptWebSocket } from "./ws_server.ts";
import { decodeKernelMessage, decodeRouting, encodeKernelMessage } from "./wire.ts";
import { CapabilitySignatures } from "./cap_signatures.ts";
import { handleNetAction } from "./actions.ts";
import { Router } from "./router.ts";
import { withTimeout } from "../../runtime/timeout.ts";
import { markSole } from "../../runtime/kernel/sole_blobs.ts";

/**
 * A message off the wire, opened into a buffer of its own: its blob is marked sole (runtime/kernel/sole_blobs.ts)
 * once it is the only view of that buffer. Large byte fields are decoded as views too, so a body or context sharing
 * it gets a copy: queued for a process's host, written as it is, it would be emptied by the blob's release (found by
 * a review).
 */
export function soleBlob(km: KernelMessage) {
  const blob = km.lazy_load_blob?.bytes;
  if (!blob) return;
  const inner = "Request" in km.message ? km.message.Request : km.message.Response[0];
  if (inner.body.buffer === blob.buffer) inner.body = inner.body.slice();
  if ("Response" in km.message && km.message.Response[1]?.buffer === blob.buffer) {
    km.message.Response[1] = km.message.Response[1].slice();
  }
  markSole(blob);
}

/** How long a send to a name we do not know waits for the chain's newest identities. */
const REFRESH_MS = 1000;

/** An inbound connection must finish its handshake (or routing request) within this, from accept. */
export const HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * Per listener (TCP and WebSocket each): links at most, and connections
 * still handshaking at most. A newcomer evicts the stalest handshaking
 * connection, so a flood of idle or stalled ones never keeps an honest peer
 * out; the caps keep the node well inside a 1024 file-descriptor limit.
 */
function linkLimits(label: string): ListenerLimits {
  return { label, maxConnections: 256, maxPending: 64, pendingTimeoutMs: HANDSHAKE_TIMEOUT_MS };
}

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
  /** Speak only the reference's byte form, never offering bin to other hyperdeno nodes (benchmarks, interop checks). */
  referenceOnly?: boolean;
  /** The address a direct node listens on and publishes as its ~ip (default 127.0.0.1). */
  ip?: string;
}

export class NetModule implements RuntimeModule {
  readonly process = NET;
  readonly public = false;
  readonly hns = new Map<string, HnsUpdate>();
  private keyCache = new Map<string, Uint8Array>();
  readonly peers: Peers;
  readonly router: Router;
  readonly us: Us;
  private caps: CapabilitySignatures;
  /**
   * Reads the chain's newest identities now (the indexer sets it): a name
   * registered since the last poll is found at once instead of failing Offline.
   */
  refreshIdentities: (() => Promise<void>) | null = null;
  private tcp: GuardedListener | null = null;
  private ws: GuardedListener | null = null;
  private timers: ReturnType<typeof setInterval>[] = [];
  private stopped = false;
  readonly started = Date.now();
  tcpPort = 0;
  wsPort = 0;

  constructor(readonly k: KernelHandle, readonly opts: NetOptions) {
    this.us = { name: k.our, keys: opts.keys, offerBin: !opts.referenceOnly };
    this.caps = new CapabilitySignatures(k.our, opts.keys, (n) => this.keyOf(n));
    this.peers = new Peers(this.us, this.hns, (n) => this.keyOf(n), {
      onLink: (l) => this.readLoop(l),
      log: (v, t) => k.print(v, t),
    }, opts.routers);
    this.router = new Router(this);
  }

  /** Inbound connections refused or evicted by the listeners' caps. */
  get refused(): number {
    return (this.tcp?.refused ?? 0) + (this.ws?.refused ?? 0);
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
   * An identity from the chain (the HNS indexer calls this for every change). The chain is the authority on a
   * name: a new ~net-key written by the name's owner is the key from now on, and links made under the old one
   * are closed, so the next message makes a link with the new key.
   */
  hnsUpdate(u: HnsUpdate) {
    const prev = this.hns.get(u.name);
    this.hns.set(u.name, u);
    if (prev && prev.public_key !== u.public_key) {
      this.k.print(
        0,
        `net: ${u.name} changed its networking key from ${prev.public_key.slice(0, 16)}… to ${
          u.public_key.slice(0, 16)
        }… on chain`,
      );
      for (const l of this.peers.all()) if (l.peer === u.name) l.close();
    }
  }

  /** A name the chain no longer has (a reorganization undid it): unknown from now on. */
  hnsForget(name: string) {
    this.hns.delete(name);
    for (const l of this.peers.all()) if (l.peer === name) l.close();
  }

  /**
   * Speaks only the reference's byte form from now on (or offers bin again):
   * links close, so the next ones are made under the new offer.
   */
  setReferenceOnly(on: boolean) {
    this.us.offerBin = !on;
    for (const l of this.peers.all()) l.close();
  }

  /** Starts listening; returns the identity to publish. */
  listen(): Promise<Omit<HnsUpdate, "public_key">> {
    if (this.indirect) return Promise.resolve({ name: this.k.our, ips: [], ports: {}, routers: this.opts.routers });
    const log = (v: number, t: string) => this.k.print(v, t);
    const ip = this.opts.ip ?? "127.0.0.1";
    const onTcp = (slot: Slot) => this.inbound(new TcpFrames(slot.conn, () => slot.close()), slot);
    const onWs = (slot: Slot) =>
      acceptWebSocket(slot.conn, () => slot.heard = true, () => slot.close()).then(
        (ch) => this.inbound(ch, slot),
        (e) => {
          this.k.print(2, `net: ws ${slot.remote}: ${(e as Error).message}`);
          slot.close();
        },
      );
    this.tcp = guardedListen(this.opts.tcpPort, linkLimits("net tcp"), onTcp, log, ip);
    this.tcpPort = this.tcp.port;
    try {
      this.ws = guardedListen(this.opts.wsPort, linkLimits("net ws"), onWs, log, ip);
    } catch (e) {
      this.tcp.close();
      throw e;
    }
    this.wsPort = this.ws.port;
    const ports: Record<string, number> = {};
    if (this.opts.publish.includes("tcp")) ports.tcp = this.tcpPort;
    if (this.opts.publish.includes("ws")) ports.ws = this.wsPort;
    return Promise.resolve({ name: this.k.our, ips: [ip], ports, routers: [] });
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

  /**
   * A new inbound connection: its first frame says whether it is a handshake
   * or a routing request. Its listener slot's deadline bounds the whole
   * handshake; once done, the slot holds a proven link.
   */
  private async inbound(ch: FrameChannel, slot: Slot) {
    try {
      const first = await ch.recv();
      slot.heard = true;
      if (first.length === 32) {
        const link = await respond(ch, first, this.us, (n) => this.keyOf(n), HANDSHAKE_TIMEOUT_MS);
        slot.proven();
        this.peers.add(link);
      } else {
        await this.router.request(ch, decodeRouting(first));
        slot.proven();
      }
    } catch (e) {
      // At the default verbosity: a peer that breaks the protocol should be seen (the console collapses a flood
      // from one address). One that hangs up, or that its deadline or our shutdown cut off, is not.
      const source = ch.remote.replace(/:\d+$/, "");
      if (!this.stopped) {
        this.k.print(
          e instanceof LinkClosed ? 1 : 0,
          `net: refused a connection from ${ch.remote}: ${(e as Error).message}`,
          {
            source,
            kind: "refused connection",
          },
        );
      }
      ch.close();
    }
  }

  /** Reads KernelMessages from a link until it fails; any bad message closes it. */
  private async readLoop(link: Link) {
    try {
      while (!this.stopped) {
        const bytes = await link.recv();
        const { km, signatures } = decodeKernelMessage(bytes);
        const inner = "Request" in km.message ? km.message.Request : km.message.Response[0];
        soleBlob(km);
        inner.capabilities = this.caps.verified(inner.capabilities, signatures);
        if (nodeOf(km.source) !== link.peer) {
          throw new ParseError(`${link.peer} sent a message claiming to be from ${nodeOf(km.source)}`);
        }
        if (nodeOf(km.target) !== this.k.our) throw new ParseError(`${link.peer} sent a message for ${km.target}`);
        // An answer to a ConnectionRequest we sent as a router is ours, not the kernel's.
        if ("Response" in km.message && processOf(km.target) === NET && this.router.answer(km)) continue;
        this.k.deliverRemote(km);
      }
    } catch (e) {
      // A peer that breaks the protocol is worth a line at the default verbosity; one that hangs up is not.
      if (!(e instanceof LinkClosed)) this.k.print(0, `net: closed the link to ${link.peer}: ${(e as Error).message}`);
      else if (!this.stopped) this.k.print(1, `net: link to ${link.peer} closed: ${e.message}`);
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

  /** Sends `km` on this very link (a router's ConnectionRequest goes on the link its target asked on). */
  sendOn(link: Link, km: KernelMessage): Promise<void> {
    return link.send(encodeKernelMessage(km, link.form, this.caps.signatureFor));
  }

  private async sendRemote(km: KernelMessage) {
    const peer = nodeOf(km.target);
    try {
      if (!this.hns.has(peer) && this.refreshIdentities) {
        await withTimeout(this.refreshIdentities(), REFRESH_MS, () => new OfflineError("the chain did not answer"))
          .catch(
            () => {},
          );
      }
      if (!this.hns.has(peer)) throw new OfflineError(`${peer} is not in the registry`);
      let link = await this.peers.get(peer);
      try {
        await link.send(encodeKernelMessage(km, link.form, this.caps.signatureFor));
      } catch (e) {
        // The link was let go as this message was queued on it (nothing of it left): it goes on a new one.
        if (!(e instanceof NotSent)) throw e;
        this.peers.remove(link);
        link = await this.peers.get(peer);
        await link.send(encodeKernelMessage(km, link.form, this.caps.signatureFor));
      }
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
      }…, ${this.hns.size} identities known, ${this.refused} connections refused or evicted, ` +
      `${(this.tcp?.acceptErrors ?? 0) + (this.ws?.acceptErrors ?? 0)} accept errors`,
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

  shutdown() {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.peers.closeAll();
    this.router.close();
    this.tcp?.close();
    this.ws?.close();
  }
}

function fmtBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
