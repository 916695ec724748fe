/**
 * The provider's side, kept by the main process: peers' Download requests.
 * Each is admitted within limits per requesting node and for all peers
 * together (tuning.ts), so no peer, nor all of them, can take the workers
 * the owner's own transfers need; past them a request is refused at once,
 * typed (Busy), and the requester tries again later.
 *
 * An admitted request waits its turn, then this process offers the file
 * itself: no worker waits on a receiver that may never answer. The offer
 * names the worker that will send (chosen now, spawned once the receiver
 * answers with its Start); an offer unanswered within OFFER_EXPIRY_S gives
 * its place to the next request.
 */
import { type ProcessAddress, Request, SendError, vfs } from "@hyperdeno/process_lib";
import { startDownload } from "../api/file_transfer_worker_api.ts";
import type { DownloadRefusal, InternalResponse } from "../api/types.ts";
import { fileVersion } from "../api/listing.ts";
import {
  OFFER_EXPIRY_S,
  PEER_ACTIVE,
  PEER_QUEUE,
  PEERS_ACTIVE,
  PEERS_QUEUE,
  PUSHES_ACTIVE,
  QUEUED_MS,
  SENDER_SILENT_MS,
} from "../api/tuning.ts";

/** A peer's request for one file. */
export interface Ask {
  node: string;
  /** The requesting worker, to offer the file to. */
  receiver: string;
  name: string;
  /** A file this node pushed to `node`: the owner's own upload, counted apart from peers' downloads. */
  pushed: boolean;
}

interface Waiting extends Ask {
  since: number;
}

interface Serving extends Ask {
  /** When its sending worker last said it is alive (0 while the offer awaits the receiver's answer). */
  heard: number;
}

export interface Refusal {
  error: string;
  refused: DownloadRefusal;
}

export class Uploads {
  private waiting: Waiting[] = [];
  /** Offers awaiting an answer and sending workers, by the worker's process id. */
  private serving = new Map<string, Serving>();
  private spawning: Promise<unknown> = Promise.resolve();
  /** Each node's requests here, waiting and served: a refusal is decided without walking them. */
  private perNode = new Map<string, number>();
  /** Peers' requests waiting (not files this node pushed). */
  private peersWaiting = 0;

  private me: ProcessAddress;
  private drive: string;
  // Fields, not parameter properties: `new -l javascript` strips types, and those are more than types.
  constructor(me: ProcessAddress, drive: string) {
    this.me = me;
    this.drive = drive;
    setInterval(() => this.expire(), 1_000);
  }

  /** Why `node` may not have another request here now, or null. */
  refusal(node: string, pushed: boolean): Refusal | null {
    const mine = this.perNode.get(node) ?? 0;
    if (mine >= PEER_ACTIVE + PEER_QUEUE) {
      return busy(
        "node",
        PEER_ACTIVE + PEER_QUEUE,
        `${this.me.node} has queued as many of ${node}'s downloads as it takes from one node (${PEER_ACTIVE} in flight, ${PEER_QUEUE} waiting)`,
      );
    }
    if (!pushed && this.peersWaiting >= PEERS_QUEUE) {
      return busy(
        "peers",
        PEERS_QUEUE,
        `${this.me.node} has queued as many downloads as it takes from all peers (${PEERS_QUEUE}) before ${node}'s`,
      );
    }
    return null;
  }

  /** Queues a request `refusal` let through; it is offered in turn. */
  admit(ask: Ask) {
    this.waiting.push({ ...ask, since: Date.now() });
    this.perNode.set(ask.node, (this.perNode.get(ask.node) ?? 0) + 1);
    if (!ask.pushed) this.peersWaiting++;
    this.pump();
  }

  /** A sending worker said it is alive. */
  heard(worker: string) {
    const s = this.serving.get(worker);
    if (s) s.heard = Date.now();
  }

  /** A sending worker ended: its place goes to the next request. */
  finished(worker: string) {
    if (this.end(worker)) this.pump();
  }

  /** `worker`'s request leaves: whether it was served here. */
  private end(worker: string): boolean {
    const s = this.serving.get(worker);
    if (!s) return false;
    this.serving.delete(worker);
    this.gone(s);
    return true;
  }

  /** A request that leaves gives its node's place back. */
  private gone(ask: Ask) {
    const n = (this.perNode.get(ask.node) ?? 1) - 1;
    if (n > 0) this.perNode.set(ask.node, n);
    else this.perNode.delete(ask.node);
  }

  /** Offers the next waiting requests while their node and their class have room. */
  private pump() {
    const serving = [...this.serving.values()];
    const count = (f: (s: Serving) => boolean) => serving.filter(f).length;
    const byNode = new Map<string, number>();
    for (const s of serving) byNode.set(s.node, (byNode.get(s.node) ?? 0) + 1);
    let peers = count((s) => !s.pushed), pushes = count((s) => s.pushed);
    for (let i = 0; i < this.waiting.length; i++) {
      const w = this.waiting[i];
      if ((byNode.get(w.node) ?? 0) >= PEER_ACTIVE) continue;
      if (w.pushed ? pushes >= PUSHES_ACTIVE : peers >= PEERS_ACTIVE) continue;
      this.waiting.splice(i--, 1);
      if (!w.pushed) this.peersWaiting--;
      byNode.set(w.node, (byNode.get(w.node) ?? 0) + 1);
      if (w.pushed) pushes++;
      else peers++;
      this.offer(w);
    }
  }

  /** Offers the file to the receiver; on its Start, starts the worker the offer named. */
  private offer(ask: Ask) {
    const name = `upload-${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const worker = `${name}:${this.me.packageId()}`;
    this.serving.set(worker, { ...ask, heard: 0 });
    this.start(ask, name, worker).catch((e) => {
      // The receiver hears why, unless it is the one gone or silent.
      if (!(e instanceof Gone)) fail(ask.receiver, `busy: ${this.me.node} could not start sending: ${e.message}`);
      this.finished(worker);
    });
  }

  private async start(ask: Ask, name: string, worker: string) {
    const meta = await vfs.metadata(`${this.drive}/${ask.name}`).catch(() => null);
    if (meta?.file_type !== "File") {
      fail(ask.receiver, `${this.me.node} has no file named ${ask.name}`);
      throw new Gone();
    }
    const version = fileVersion(meta);
    const offer = { name: ask.name, size: meta.len, sha256: null, version, sender: `${this.me.node}@${worker}` };
    let body: InternalResponse;
    try {
      const r = await Request.to(ask.receiver).json({ Offer: offer }).sendAndAwaitResponse(OFFER_EXPIRY_S);
      body = r.json<InternalResponse>();
    } catch (e) {
      if (e instanceof SendError) throw new Gone(); // unanswered (expired) or gone: the place goes to the next
      throw e;
    }
    if (!body || typeof body !== "object" || !("Start" in body)) throw new Gone();
    const { offset, chunk } = body.Start;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > meta.len) {
      fail(ask.receiver, `bad start offset ${offset}`);
      throw new Gone();
    }
    this.heard(worker);
    const start = { offset, size: meta.len, version, ...(typeof chunk === "number" ? { chunk } : {}) };
    // One spawn at a time: a process host starts each thread on its main thread, blocking it, and a burst of
    // them (several receivers answering at once) held its other threads' pings long enough to be taken for stuck.
    const spawned = this.spawning.then(() =>
      startDownload(this.me, ask.receiver, ask.name, ask.receiver, false, { start }, name)
    );
    this.spawning = spawned.catch(() => {});
    await spawned;
  }

  /** Workers silent too long have gone; requests waiting too long are told to try again later. */
  private expire() {
    const now = Date.now();
    let freed = false;
    for (const [worker, s] of this.serving) {
      if (s.heard > 0 && now - s.heard > SENDER_SILENT_MS) freed = this.end(worker) || freed;
    }
    const stale = this.waiting.filter((w) => now - w.since > QUEUED_MS);
    if (stale.length) this.waiting = this.waiting.filter((w) => now - w.since <= QUEUED_MS);
    for (const w of stale) {
      this.gone(w);
      if (!w.pushed) this.peersWaiting--;
    }
    for (const w of stale) fail(w.receiver, `busy: ${this.me.node} could not serve ${w.name} in time: try again later`);
    if (freed) this.pump();
  }
}

/** The receiver went away, answered nothing, or was told why already. */
class Gone extends Error {}

function busy(limit: "node" | "peers", max: number, why: string): Refusal {
  return { error: `busy: ${why}: try again later`, refused: { Busy: { limit, max } } };
}

function fail(receiver: string, why: string) {
  Request.to(receiver).json({ Fail: why }).send();
}
