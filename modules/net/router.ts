/**
 * Routing for indirect nodes (the book's section 4.1). A node B that cannot
 * reach indirect node C dials one of C's routers, R, and sends a
 * RoutingRequest {source B, target C} signed by B over C ++ R. R asks C
 * (over their link) to connect back with a ConnectionRequest(B); C dials R
 * with a RoutingRequest {source C, target B}; R splices the two connections
 * and B and C run their own Noise handshake through it. R sees only
 * ciphertext.
 */
import { verify } from "../../runtime/keys.ts";

import { type FrameChannel, TcpFrames } from "./frames.ts";
import type { NetModule } from "./mod.ts";
import { CONNECT_TIMEOUT_MS } from "./peers.ts";
import { PROTOCOL_VERSION, type RoutingRequest } from "./wire.ts";
import { encodeNetAction } from "../../runtime/api/net.ts";
import { moduleAddress, NET } from "../../runtime/api/processes.ts";

interface Waiting {
  ch: FrameChannel;
  timer: ReturnType<typeof setTimeout>;
}

export class Router {
  private waiting = new Map<string, Waiting>();
  private spliced = 0;

  constructor(private net: NetModule) {}

  request(ch: FrameChannel, rr: RoutingRequest) {
    const net = this.net, our = net.k.our;
    if (rr.protocol_version !== PROTOCOL_VERSION) throw new Error(`routing request of protocol ${rr.protocol_version}`);
    const key = net.keyOf(rr.source);
    if (!key || !verify(key, new TextEncoder().encode(rr.target + our), rr.signature)) {
      throw new Error(`routing request from ${rr.source} is not signed by its key`);
    }
    // The second leg: the indirect node answering a connection we asked it for.
    const back = this.waiting.get(`${rr.target}>${rr.source}`);
    if (back) {
      this.waiting.delete(`${rr.target}>${rr.source}`);
      clearTimeout(back.timer);
      this.splice(back.ch, ch);
      return;
    }
    const target = net.hns.get(rr.target);
    if (!target || !target.routers.includes(our)) throw new Error(`we do not route for ${rr.target}`);
    if (!net.peers.current(rr.target)) throw new Error(`${rr.target} is not connected to us`);
    const slot = `${rr.source}>${rr.target}`;
    this.waiting.get(slot)?.ch.close();
    this.waiting.set(slot, {
      ch,
      timer: setTimeout(() => {
        this.waiting.delete(slot);
        ch.close();
      }, CONNECT_TIMEOUT_MS),
    });
    net.k.send(net.process, {
      target: moduleAddress(rr.target, NET),
      message: {
        Request: {
          inherit: false,
          expects_response: null,
          body: encodeNetAction({ ConnectionRequest: rr.source }),
          metadata: null,
          capabilities: [],
        },
      },
    });
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
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.ch.close();
    }
    this.waiting.clear();
  }
}
