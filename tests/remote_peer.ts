/**
 * A hand-made node for attack tests: registered on the chain under its
 * own key, linked to a victim over a real Noise link, and free to put any
 * process id in the messages it sends (only its node name is checked).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { TcpFrames } from "../modules/net/frames.ts";
import { initiate, type Link } from "../modules/net/handshake.ts";
import { decodeKernelMessage, encodeKernelMessage } from "../modules/net/wire.ts";
import { type KernelMessage, type MessageId, randomId, utf8 } from "../runtime/types.ts";
import { registerOnChain, waitFor } from "../runtime/testing.ts";
import type { Net } from "./net_helpers.ts";

export class RawPeer {
  private constructor(readonly name: string, private link: Link) {}

  /** Registers `name` and links it to `victim`. */
  static async connect(net: Net, name: string, victim: string): Promise<RawPeer> {
    const secretKey = ed25519.utils.randomSecretKey();
    const keys = { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
    await registerOnChain(net.chain, name, keys.publicKey);
    const v = net.nodes[victim].net!;
    await waitFor(`${name} known to ${victim}`, () => v.hns.has(name));
    const ch = new TcpFrames(await Deno.connect({ hostname: "127.0.0.1", port: v.tcpPort }));
    return new RawPeer(name, await initiate(ch, { name, keys }, victim, (n) => v.keyOf(n), 5000));
  }

  /** Sends a request claiming to come from `asProcess` on this node; returns its id. */
  async request(asProcess: string, target: string, body: unknown, blob?: Uint8Array): Promise<MessageId> {
    const id = randomId();
    const km: KernelMessage = {
      id,
      source: `${this.name}@${asProcess}`,
      target,
      rsvp: null,
      message: {
        Request: {
          inherit: false,
          expects_response: 5,
          body: utf8(JSON.stringify(body)),
          metadata: null,
          capabilities: [],
        },
      },
      lazy_load_blob: blob ? { mime: null, bytes: blob } : null,
    };
    await this.link.send(encodeKernelMessage(km, this.link.form, () => new Uint8Array()));
    return id;
  }

  /** A read under way, kept across calls so two never race on the link. */
  private reading: Promise<Uint8Array | null> | null = null;

  /** Every message the victim sends back within `ms`. */
  async answers(ms: number): Promise<KernelMessage[]> {
    const got: KernelMessage[] = [];
    const until = Date.now() + ms;
    while (Date.now() < until) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wait = new Promise<"wait">((r) => timer = setTimeout(() => r("wait"), until - Date.now()));
      this.reading ??= this.link.recv().catch(() => null);
      const bytes = await Promise.race([this.reading, wait]);
      clearTimeout(timer);
      if (bytes === "wait") break;
      this.reading = null;
      if (!bytes) break;
      got.push(decodeKernelMessage(bytes).km);
    }
    return got;
  }

  close() {
    this.link.close();
  }
}
