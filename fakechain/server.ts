/**
 * The fake chain: a local identity registry, as anvil is under `kit
 * boot-fake-node`. Nodes register signed identities and watch for changes.
 *
 *   POST /register          Registration → {"seq"} | {"error"}
 *   GET  /nodes             → {"seq", "nodes": [SignedIdentity]}
 *   GET  /nodes/<name>      → SignedIdentity | 404
 *   GET  /watch?since=<seq> → text/event-stream, one `data: {"seq", "node"}` per change
 *
 * With a data file every accepted registration is appended to it (one JSON
 * line, fsynced) before it is answered, and replayed, signatures checked
 * again, when a chain starts on the same file: a restart never frees a name
 * for someone else to take. A file that does not replay is an error, never
 * an empty registry.
 */
import { dirOf, syncDirSync, writeFileAtomicSync } from "../runtime/kernel/persist.ts";
import { ParseError } from "../runtime/types.ts";
import { type HnsUpdate, validateUpdate } from "../runtime/api/net.ts";
import { type Registration, signedBy, type SignedIdentity } from "../runtime/api/registration.ts";

const MAX_BODY = 64 * 1024;
const MAX_NODES = 100_000;

interface Entry {
  node: HnsUpdate;
  /** The registration that put `node` here, as published. */
  signed: SignedIdentity;
  timestamp: number;
  seq: number;
}

export interface FakeChainOptions {
  /** Where registrations are kept across restarts; without one the chain lives in memory only. */
  dataFile?: string;
  /** Signed registrations to take in at start (a node taking a chain over brings what it saw). */
  seed?: SignedIdentity[];
  /** Where notices go (an interrupted last write that was never acknowledged, dropped). */
  log?: (line: string) => void;
}

export class FakeChain {
  private nodes = new Map<string, Entry>();
  private seq = 0;
  private watchers = new Set<(line: string) => void>();
  /** Open /watch streams, ended on close so shutdown does not wait on them forever. */
  private streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  private server: Deno.HttpServer | null = null;
  private log: Deno.FsFile | null = null;
  port = 0;

  constructor(private opts: FakeChainOptions = {}) {
    if (opts.dataFile) this.log = this.replay(opts.dataFile);
    for (const r of opts.seed ?? []) {
      const prev = this.nodes.get(r.name);
      if (prev && prev.timestamp >= (r.timestamp ?? 0)) continue;
      try {
        this.register(r as Registration);
      } catch { /* not a registration this chain accepts: the registry it came from had it wrong */ }
    }
  }

  /** Applies a registration, or throws a ParseError saying why not. */
  register(r: Registration): number {
    const signed = this.check(r);
    if (this.log) {
      const bytes = new TextEncoder().encode(JSON.stringify(signed) + "\n");
      let off = 0;
      while (off < bytes.length) off += this.log.writeSync(bytes.subarray(off));
      this.log.syncDataSync();
    }
    return this.apply(signed);
  }

  /** The registration as it is kept and published, if the rules accept it. */
  private check(r: Registration): SignedIdentity {
    const node = validateUpdate(r);
    if (!Number.isSafeInteger(r.timestamp)) throw new ParseError("timestamp must be an integer");
    if (typeof r.signature !== "string") throw new ParseError("signature must be hex");
    const signed: SignedIdentity = { ...node, timestamp: r.timestamp, signature: r.signature };
    if (typeof r.owner_signature === "string") signed.owner_signature = r.owner_signature;
    if (!signedBy(node.public_key, signed, "signature")) {
      throw new ParseError("signature does not verify with public_key");
    }
    const prev = this.nodes.get(node.name);
    if (prev) {
      if (r.timestamp <= prev.timestamp) throw new ParseError("stale registration: timestamp must grow");
      if (prev.node.public_key !== node.public_key && !signedBy(prev.node.public_key, signed, "owner_signature")) {
        throw new ParseError(
          `${node.name} belongs to another key: owner_signature by it is required (a node that lost its key needs a new name or a new fake chain)`,
        );
      }
    } else if (this.nodes.size >= MAX_NODES) throw new ParseError("registry full");
    return signed;
  }

  private apply(signed: SignedIdentity): number {
    const { timestamp, signature: _s, owner_signature: _o, ...node } = signed;
    const seq = ++this.seq;
    this.nodes.set(node.name, { node, signed, timestamp: timestamp!, seq });
    const line = `data: ${JSON.stringify({ seq, node: signed })}\n\n`;
    for (const w of this.watchers) w(line);
    return seq;
  }

  /** Replays the data file, and opens it to append to. */
  private replay(path: string): Deno.FsFile {
    let bytes = new Uint8Array();
    let created = false;
    try {
      bytes = Deno.readFileSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      created = true;
    }
    const end = bytes.lastIndexOf(10) + 1;
    const lines = new TextDecoder().decode(bytes.subarray(0, end)).split("\n").slice(0, -1);
    lines.forEach((line, i) => {
      try {
        this.apply(this.check(JSON.parse(line)));
      } catch (e) {
        throw new ParseError(
          `fake chain data ${path} line ${i + 1} does not replay (${
            (e as Error).message
          }); the registry is not reset: repair the file or move it aside to start an empty one`,
        );
      }
    });
    if (lines.length > 2 * this.nodes.size + 16) {
      // Nodes register again on every reconnect; keep the newest registration of each name.
      const kept = [...this.nodes.values()].sort((a, b) => a.seq - b.seq).map((e) => JSON.stringify(e.signed) + "\n");
      writeFileAtomicSync(path, new TextEncoder().encode(kept.join("")));
      bytes = new Uint8Array();
    }
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    if (end < bytes.length) {
      // A line without its newline was being written when the chain stopped; it was never answered.
      file.truncateSync(end);
      file.syncSync();
      this.opts.log?.(`fake chain: dropped an unfinished last registration in ${path} (it was never acknowledged)`);
    }
    file.seekSync(0, Deno.SeekMode.End);
    if (created) syncDirSync(dirOf(path));
    return file;
  }

  list(): { seq: number; nodes: SignedIdentity[] } {
    return { seq: this.seq, nodes: [...this.nodes.values()].map((e) => e.signed) };
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
      return e ? json(e.signed) : json({ error: "no such node" }, 404);
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
          if (e.seq > since) send(`data: ${JSON.stringify({ seq: e.seq, node: e.signed })}\n\n`);
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
    this.log?.close();
    this.log = null;
  }
}

function json(v: unknown, status = 200): Response {
  return new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
}
