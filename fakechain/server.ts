/**
 * The fake chain: a local identity registry, as anvil is under `kit
 * boot-fake-node`. Nodes register signed identities and watch for changes.
 *
 *   POST /register          Registration → {"seq"} | {"error"}
 *   GET  /nodes             → {"seq", "nodes": [HnsUpdate]}
 *   GET  /nodes/<name>      → HnsUpdate | 404
 *   GET  /watch?since=<seq> → text/event-stream, one `data: {"seq", "node"}` per change
 */
import { fromHex, verify } from "../runtime/keys.ts";
import { ParseError } from "../runtime/types.ts";
import { type HnsUpdate, type Registration, registrationMessage, validateUpdate } from "./identity.ts";

const MAX_BODY = 64 * 1024;
const MAX_NODES = 100_000;

interface Entry {
  node: HnsUpdate;
  timestamp: number;
  seq: number;
}

export class FakeChain {
  private nodes = new Map<string, Entry>();
  private seq = 0;
  private watchers = new Set<(line: string) => void>();
  /** Open /watch streams, ended on close so shutdown does not wait on them forever. */
  private streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private server: Deno.HttpServer | null = null;
  port = 0;

  /** Applies a registration, or throws a ParseError saying why not. */
  register(r: Registration): number {
    const node = validateUpdate(r);
    if (!Number.isSafeInteger(r.timestamp)) throw new ParseError("timestamp must be an integer");
    if (typeof r.signature !== "string") throw new ParseError("signature must be hex");
    const msg = registrationMessage(node, r.timestamp);
    const prev = this.nodes.get(node.name);
    let sig: Uint8Array;
    try {
      sig = fromHex(r.signature);
    } catch {
      throw new ParseError("signature must be hex");
    }
    if (!verify(fromHex(node.public_key), msg, sig)) throw new ParseError("signature does not verify with public_key");
    if (prev) {
      if (r.timestamp <= prev.timestamp) throw new ParseError("stale registration: timestamp must grow");
      if (prev.node.public_key !== node.public_key) {
        const owner = typeof r.owner_signature === "string" ? r.owner_signature : "";
        let ok = false;
        try {
          ok = verify(fromHex(prev.node.public_key), msg, fromHex(owner));
        } catch { /* not hex */ }
        if (!ok) throw new ParseError(`${node.name} belongs to another key: owner_signature by it is required`);
      }
    } else if (this.nodes.size >= MAX_NODES) throw new ParseError("registry full");
    const seq = ++this.seq;
    this.nodes.set(node.name, { node, timestamp: r.timestamp, seq });
    const line = `data: ${JSON.stringify({ seq, node })}\n\n`;
    for (const w of this.watchers) w(line);
    return seq;
  }

  list(): { seq: number; nodes: HnsUpdate[] } {
    return { seq: this.seq, nodes: [...this.nodes.values()].map((e) => e.node) };
  }

  async listen(port: number, hostname = "127.0.0.1"): Promise<number> {
    const ready = Promise.withResolvers<number>();
    this.server = Deno.serve(
      {
        port,
        hostname,
        onListen: (a) => ready.resolve((a as Deno.NetAddr).port),
        onError: () => json({ error: "internal" }, 500),
      },
      (req) => this.serve(req),
    );
    this.port = await ready.promise;
    return this.port;
  }

  private async serve(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname === "/") {
      return json({ fakechain: 1, nodes: this.nodes.size, seq: this.seq });
    }
    if (req.method === "GET" && url.pathname === "/nodes") return json(this.list());
    if (req.method === "GET" && url.pathname.startsWith("/nodes/")) {
      const e = this.nodes.get(decodeURIComponent(url.pathname.slice(7)));
      return e ? json(e.node) : json({ error: "no such node" }, 404);
    }
    if (req.method === "POST" && url.pathname === "/register") {
      if (Number(req.headers.get("content-length") ?? 0) > MAX_BODY) return json({ error: "too large" }, 413);
      try {
        const text = await req.text();
        if (text.length > MAX_BODY) return json({ error: "too large" }, 413);
        return json({ seq: this.register(JSON.parse(text)) });
      } catch (e) {
        return json({ error: e instanceof SyntaxError ? `bad JSON: ${e.message}` : (e as Error).message }, 400);
      }
    }
    if (req.method === "GET" && url.pathname === "/watch") {
      return this.watch(Number(url.searchParams.get("since") ?? 0));
    }
    return json({ error: `nothing at ${req.method} ${url.pathname}` }, 404);
  }

  private watch(since: number): Response {
    let send: ((line: string) => void) | null = null;
    let streamCtl: ReadableStreamDefaultController<Uint8Array> | null = null;
    const stream = new ReadableStream<Uint8Array>({
      start: (ctl) => {
        const enc = new TextEncoder();
        send = (line) => {
          try {
            ctl.enqueue(enc.encode(line));
          } catch { /* closed */ }
        };
        for (const e of [...this.nodes.values()].sort((a, b) => a.seq - b.seq)) {
          if (e.seq > since) send(`data: ${JSON.stringify({ seq: e.seq, node: e.node })}\n\n`);
        }
        this.watchers.add(send);
        this.streams.add(ctl);
        streamCtl = ctl;
      },
      cancel: () => {
        if (send) this.watchers.delete(send);
        if (streamCtl) this.streams.delete(streamCtl);
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  }

  async close() {
    this.watchers.clear();
    for (const c of this.streams) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    this.streams.clear();
    await this.server?.shutdown();
  }
}

function json(v: unknown, status = 200): Response {
  return new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
}
