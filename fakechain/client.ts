/**
 * A node's side of the fake chain: register its identity (signed), and keep
 * a current view of everyone else's through /watch.
 */
import { type NodeKeys, sign } from "../runtime/keys.ts";
import { toHex } from "../runtime/bytes.ts";
import { ParseError } from "../runtime/types.ts";
import type { HnsUpdate } from "../runtime/api/net.ts";
import { registrationMessage, type SignedIdentity } from "../runtime/api/registration.ts";

export async function registerIdentity(
  chainPort: number,
  keys: NodeKeys,
  u: Omit<HnsUpdate, "public_key">,
): Promise<void> {
  const node: HnsUpdate = { ...u, public_key: toHex(keys.publicKey) };
  const timestamp = Date.now();
  const signature = toHex(sign(keys, registrationMessage(node, timestamp)));
  const resp = await fetch(`http://127.0.0.1:${chainPort}/register`, {
    method: "POST",
    body: JSON.stringify({ ...node, timestamp, signature }),
  });
  const body = await resp.json();
  if (resp.status !== 200) {
    const hint = String(body.error).includes("belongs to another key")
      ? `; this node's key is not the one that registered ${u.name} (a home without --persist gets a new key each run): keep the home with --persist, pick another name, or give the fake chain a fresh data file`
      : "";
    throw new ParseError(`the fake chain refused ${u.name}: ${body.error}${hint}`);
  }
}

export async function chainIsUp(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    const j = await r.json();
    return j?.fakechain === 1;
  } catch {
    return false;
  }
}

/**
 * Follows /watch, calling `onNode` for every identity, reconnecting when the
 * stream drops. Before every reconnection `onConnect` runs: a chain that
 * restarted is empty, so the node registers itself again (and may start it).
 */
export class ChainWatcher {
  private abort = new AbortController();
  private stopped = false;

  constructor(
    private port: number,
    private onNode: (n: SignedIdentity) => void,
    private log: (s: string) => void,
    private onConnect: () => Promise<void> = async () => {},
  ) {}

  async start() {
    let delay = 250;
    let first = true;
    while (!this.stopped) {
      try {
        if (!first) await this.onConnect();
        first = false;
        // From the start every time: a restarted chain numbers its events anew.
        const resp = await fetch(`http://127.0.0.1:${this.port}/watch?since=0`, { signal: this.abort.signal });
        delay = 250;
        const dec = new TextDecoder();
        let buf = "";
        for await (const chunk of resp.body!) {
          buf += dec.decode(chunk, { stream: true });
          let i: number;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (ev.startsWith("data: ")) this.onNode(JSON.parse(ev.slice(6)).node);
          }
        }
      } catch (e) {
        if (this.stopped) return;
        this.log(`hns: lost the fake chain on port ${this.port} (${(e as Error).message}); retrying`);
      }
      if (this.stopped) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }

  stop() {
    this.stopped = true;
    this.abort.abort();
  }
}
