/**
 * Routing (the book's section 4.1), as Hyperdrive's router does it. A node B
 * that cannot reach indirect node C dials one of C's routers, R, and sends a
 * RoutingRequest {source B, target C} signed by B over C ++ R. R asks C (over
 * the link C opened with proxy_request set) to connect back with a
 * ConnectionRequest(B), which expects an answer within 5 s; C dials R with a
 * RoutingRequest {source C, target B}; R splices the two connections and B and
 * C run their own Noise handshake through it. R sees only ciphertext. A
 * Rejected answer, or none within 5 s, drops B's waiting connection.
 *
 * A RoutingRequest whose target is a direct node is passed straight on to it
 * (so an indirect node that can reach nothing but its routers reaches direct
 * nodes too), but only for a node we route for.
 */
import { verify } from "../../runtime/keys.ts";
import { type KernelMessage, type MessageId, nodeOf, randomId } from "../../runtime/types.ts";
import { type FrameChannel, openWs, TcpFrames } from "./frames.ts";
import type { Link } from "./handshake.ts";
import type { NetModule } from "./mod.ts";
import { CONNECT_TIMEOUT_MS } from "./peers.ts";
import { decodeNetBody, PROTOCOL_VERSION, type RoutingRequest } from "./wire.ts";
import { encodeNetAction } from "../../runtime/api/net.ts";
import { moduleAddress, NET } from "../../runtime/api/processes.ts";
import { withTimeout } from "../../runtime/timeout.ts";

/** A refused RoutingRequest: the connection is closed and the reason logged. */
export class RoutingRefused extends Error {
  override name = "RoutingRefused";
}

interface Waiting {
  ch: FrameChannel;
  timer: ReturnType<typeof setTimeout>;
  /** The id of the ConnectionRequest that asked the target to connect back. */
  asked: MessageId;
}

export class Router {
  /** First legs waiting for their target to connect back, by "source>target". */
  private waiting = new Map<string, Waiting>();
  /** Our ConnectionRequests awaiting an answer: id → waiting slot. */
  private asked = new Map<MessageId, string>();
  private spliced = 0;

  constructor(private net: NetModule) {}

  /** The link a node opened to us asking us to route for it (proxy_request), if it has one up. */
  routingFor(name: string): Link | undefined {
    return this.net.peers.all().find((l) => l.peer === name && l.proxyRequest);
  }

  async request(ch: FrameChannel, rr: RoutingRequest) {
    const net = this.net, our = net.k.our;
    if (rr.protocol_version !== PROTOCOL_VERSION) {
      throw new RoutingRefused(`routing request of protocol ${rr.protocol_version}`);
    }
    const key = net.keyOf(rr.source);
    if (!key || !verify(key, new TextEncoder().encode(rr.target + our), rr.signature)) {
      throw new RoutingRefused(`routing request from ${rr.source} is not signed by its key`);
    }
    if (rr.source === rr.target) throw new RoutingRefused(`${rr.source} asked to be routed to itself`);
    // The second leg: the indirect node answering a connection we asked it for.
    const back = this.take(`${rr.target}>${rr.source}`);
    if (back) return this.splice(back.ch, ch);
    const target = net.hns.get(rr.target);
    if (!target) throw new RoutingRefused(`${rr.target} is not in the registry`);
    if (!target.routers.length) return await this.passOn(ch, rr.source, target);
    if (!target.routers.includes(our)) throw new RoutingRefused(`we are not a router of ${rr.target}`);
    const link = this.routingFor(rr.target);
    if (!link) {
      throw new RoutingRefused(`${rr.target} has not asked us to route for it (no link with proxy_request)`);
    }
    const slot = `${rr.source}>${rr.target}`;
    this.take(slot)?.ch.close();
    const km: KernelMessage = {
      id: randomId(),
      source: moduleAddress(our, NET),
      target: moduleAddress(rr.target, NET),
      rsvp: null,
      message: {
        Request: {
          inherit: false,
          expects_response: CONNECT_TIMEOUT_MS / 1000,
          body: encodeNetAction({ ConnectionRequest: rr.source }),
          metadata: null,
          capabilities: [],
        },
      },
      lazy_load_blob: null,
    };
    this.asked.set(km.id, slot);
    this.waiting.set(slot, {
      ch,
      asked: km.id,
      timer: setTimeout(() => {
        net.k.print(1, `net: ${rr.target} did not connect back to ${rr.source} within 5 s`);
        this.take(slot)?.ch.close();
      }, CONNECT_TIMEOUT_MS),
    });
    // Sent on the very link the target asked us on, with no rsvp, as the reference's router sends it.
    await net.sendOn(link, km).catch((e) => {
      this.take(slot)?.ch.close();
      throw new RoutingRefused(`could not ask ${rr.target} to connect back: ${(e as Error).message}`);
    });
  }

  /**
   * A Response for net from another node: if it answers one of our
   * ConnectionRequests, it is ours (true). Rejected drops the waiting leg at
   * once; Accepted changes nothing (the target's second leg comes on its own).
   */
  answer(km: KernelMessage): boolean {
    const slot = this.asked.get(km.id);
    if (slot === undefined || !slot.endsWith(`>${nodeOf(km.source)}`) || !("Response" in km.message)) return false;
    this.asked.delete(km.id);
    let v: unknown;
    try {
      v = decodeNetBody(km.message.Response[0].body);
    } catch {
      v = null;
    }
    const rejected = v && typeof v === "object" && "Rejected" in v ? (v as { Rejected: unknown }).Rejected : undefined;
    if (rejected !== undefined) {
      const w = this.waiting.get(slot);
      if (w && w.asked === km.id && slot === `${rejected}>${nodeOf(km.source)}`) {
        this.net.k.print(1, `net: ${nodeOf(km.source)} rejected the connection from ${rejected}`);
        this.take(slot)!.ch.close();
      }
    }
    return true;
  }

  /** Removes a waiting leg (and forgets its question). */
  private take(slot: string): Waiting | undefined {
    const w = this.waiting.get(slot);
    if (!w) return undefined;
    this.waiting.delete(slot);
    this.asked.delete(w.asked);
    clearTimeout(w.timer);
    return w;
  }

  /**
   * Passes a connection on to a direct node, over the transport it came on
   * (as the reference's router does), for a node we route for only: a
   * router is no open relay.
   */
  private async passOn(
    ch: FrameChannel,
    source: string,
    target: { name: string; ips: string[]; ports: Record<string, number> },
  ) {
    if (!this.routingFor(source)) {
      throw new RoutingRefused(
        `${source} asked us to pass a connection to direct node ${target.name}, but we do not route for it`,
      );
    }
    const ip = target.ips[0];
    const port = target.ports[ch.transport];
    if (!ip || !port) {
      throw new RoutingRefused(`${target.name} publishes no ${ch.transport} port to pass ${source}'s connection to`);
    }
    let onward: FrameChannel;
    try {
      onward = ch.transport === "tcp"
        ? new TcpFrames(await withTimeout(Deno.connect({ hostname: ip, port }), CONNECT_TIMEOUT_MS))
        : await openWs(`ws://${ip}:${port}/`, CONNECT_TIMEOUT_MS);
    } catch (e) {
      throw new RoutingRefused(`could not reach ${target.name} for ${source}: ${(e as Error).message}`);
    }
    this.splice(ch, onward);
  }

  /**
   * Joins the two legs until either side closes: TCP byte for byte, WebSocket
   * message for message. Legs of two transports cannot be joined (the framings
   * differ), as in the reference.
   */
  private splice(a: FrameChannel, b: FrameChannel) {
    if (a instanceof TcpFrames && b instanceof TcpFrames) {
      this.spliced++;
      a.pipeTo(b);
      b.pipeTo(a);
      return;
    }
    if (a.transport !== b.transport) {
      this.net.k.print(1, `net: cannot join a ${a.transport} leg to a ${b.transport} leg`);
      a.close();
      b.close();
      return;
    }
    this.spliced++;
    const pump = async (from: FrameChannel, to: FrameChannel) => {
      try {
        while (true) await to.send([await from.recv()]);
      } catch {
        from.close();
        to.close();
      }
    };
    pump(a, b);
    pump(b, a);
  }

  describe(): string[] {
    return this.spliced || this.waiting.size
      ? [`routed ${this.spliced} connections, ${this.waiting.size} waiting`]
      : [];
  }

  close() {
    for (const slot of [...this.waiting.keys()]) this.take(slot)?.ch.close();
  }
}
