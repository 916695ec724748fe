/**
 * The HNS indexer: reads Hypermap's Mint and Note logs from a chain (eth_getLogs from the block after the last it
 * read, in windows that shrink when the RPC refuses a range, then polling for new blocks), turns them into
 * identities and hands each changed one to net as an HnsUpdate. It keeps names, nodes, waiting notes and its last
 * block in <home>/hns-indexer.json, so a restart continues where it stopped, and it follows reorganizations: the
 * hash of the last block read is checked every round, and a changed one rolls back to the newest block that still
 * matches and reads forward again. A chain that stops answering leaves the node running on what was indexed.
 */
import { decodeAbiParameters, type Hex, hexToBytes, hexToString, keccak256 } from "viem";
import type { HnsUpdate } from "../runtime/api/net.ts";
import { readJsonSync, writeFileAtomicSync } from "../runtime/kernel/persist.ts";
import { type ChainClient, type HeadsWatch, RpcError, show } from "./client.ts";
import { HNS_NOTE_HASHES, HYPERMAP } from "./hypermap.ts";
import { firstBlock } from "./networks.ts";
import { emptyState, type HnsLog, HnsState, ready, type Saved } from "./hns_state.ts";

export const MINT_TOPIC = "0xb59dae5eda69178326b6517bb1aa33e208bf2ac347e30d3a5daf0ecb6249f7b1";
export const NOTE_TOPIC = "0xe40d9f1ec78dfc3c5a94c3edae28058ba092a8f65ce8a199731840a3d20f82f4";

export interface IndexerOptions {
  chain: ChainClient;
  /** Where the state is kept (a file); null keeps nothing. */
  stateFile: string | null;
  /** A node's identity changed (or appeared). */
  onUpdate: (u: HnsUpdate) => void;
  /** A name's identity is gone (a reorganization undid it). */
  onForget?: (name: string) => void;
  /** The chain at the URL is another one than before (a dev chain started again): register again, say. */
  onNewChain?: () => Promise<void>;
  /** A round could not reach the chain (a node may start one in its place). */
  onUnreachable?: () => Promise<void>;
  /** verbosity 0: what the user must know; 1: details. */
  log: (verbosity: number, text: string) => void;
  /** Between rounds (default 500 ms). */
  pollMs?: number;
  /** The first block worth reading (default: the chain's in networks.ts, 0 for a chain not there). */
  startBlock?: number;
  /** Logs read per eth_getLogs at most (default 10,000 blocks). */
  window?: number;
}

/**
 * With new blocks announced (ChainClient.watchHeads) a round follows each, and polling only backs the announcements
 * up, this many times slower: two idle test nodes polling every 100 ms spent 60 ms of CPU a second (a round is ~3 ms).
 */
const WATCHED_POLL_FACTOR = 10;
/** Rounds that announcements ask for are this far apart at least: an endpoint flooding them cannot spin the node. */
const ANNOUNCED_GAP_MS = 25;
/** A lost subscription is asked for again after a successful round at most this often. */
const WATCH_RETRY_MS = 5000;

export class HnsIndexer {
  state!: HnsState;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private announced = new Set<string>();
  private failing: string | null = null;
  private window: number;
  private dirtySince = 0;
  /** The chain's id and genesis were compared with the saved state's since it last failed to answer. */
  private checked = false;
  private savedAt = 0;
  private inRound: Promise<void> = Promise.resolve();
  private heads: HeadsWatch | null = null;
  private watching: Promise<void> = Promise.resolve();
  private watchTried = 0;
  /** A block was announced since the last round started. */
  private headSeen = false;
  /** Malformed logs seen (ignored). */
  malformed = 0;
  /** Rounds that read the chain; for tests that wait for one more. */
  rounds = 0;

  constructor(readonly opts: IndexerOptions) {
    this.window = opts.window ?? 10_000;
  }

  get lastBlock(): number {
    return this.state.s.last_block;
  }

  /** Whether the last round reached the chain. */
  get answering(): boolean {
    return this.failing === null;
  }

  /**
   * Loads the saved state, hands its nodes to net, reads the chain up to its head once (if it answers), then
   * keeps polling. A chain that does not answer at start is said, and the node runs on the saved state.
   */
  async start(opts: { wait?: boolean } = {}): Promise<void> {
    const saved = this.opts.stateFile ? readJsonSync<Saved | null>(this.opts.stateFile, null) : null;
    this.state = new HnsState(saved?.version === 1 ? saved : emptyState(0, "", 0), (t) => this.warn(t));
    for (const name of Object.keys(this.state.nodes)) this.announce(name);
    // A long history (a public chain) is read in the background, its progress said every 10 s.
    const first = this.round().then(() => this.schedule());
    if (opts.wait ?? true) await first;
  }

  async stop() {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.save(true);
    await this.watching;
    await this.heads?.stop();
    this.heads = null;
  }

  /** One round now (tests use it to wait for the chain's head). */
  round(): Promise<void> {
    // One at a time: a round asked for while the poller's runs waits for it, then reads from where it stopped.
    const next = this.inRound.then(() => this.roundNow());
    this.inRound = next;
    return next;
  }

  private async roundNow(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.sync();
      this.rounds++;
      if (this.failing !== null) {
        this.opts.log(
          0,
          `hns: the chain at ${this.opts.chain.url} answers again; indexed up to block ${this.lastBlock}`,
        );
      }
      this.failing = null;
      if (!this.heads && Date.now() - this.watchTried >= WATCH_RETRY_MS) this.watching = this.watch();
    } catch (e) {
      const why = (e as Error).message.split("\n")[0].slice(0, 200);
      if (this.failing === null) {
        this.opts.log(
          0,
          `hns: the chain at ${this.opts.chain.url} is not answering (${why}); running on the ${
            Object.keys(this.state.nodes).length
          } identities indexed up to block ${this.lastBlock}, retrying`,
        );
      } else if (why !== this.failing) this.opts.log(1, `hns: still no chain: ${why}`);
      this.failing = why;
      this.checked = false;
      await this.opts.onUnreachable?.().catch((e) => this.opts.log(1, `hns: ${(e as Error).message}`));
    }
    if (!this.stopped) this.save(false);
  }

  private schedule() {
    if (this.stopped) return;
    const poll = this.opts.pollMs ?? 500;
    const ms = this.failing !== null
      ? Math.min(5000, poll * 4)
      : this.headSeen
      ? ANNOUNCED_GAP_MS
      : this.heads
      ? poll * WATCHED_POLL_FACTOR
      : poll;
    const t = setTimeout(async () => {
      this.timer = null;
      this.headSeen = false;
      await this.round();
      this.schedule();
    }, ms);
    Deno.unrefTimer(t as unknown as number);
    this.timer = t;
  }

  /** A new block: a round now, or right after the one running. */
  private onHead() {
    this.headSeen = true;
    if (this.timer === null || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.schedule();
  }

  private async watch() {
    this.watchTried = Date.now();
    const heads = await this.opts.chain.watchHeads(() => this.onHead(), (why) => {
      this.heads = null;
      this.opts.log(1, `hns: new blocks are no longer announced (${why}); polling`);
      // Look now: the chain itself may be gone.
      this.onHead();
    }).catch(() => null);
    if (this.stopped) await heads?.stop();
    else this.heads = heads;
  }

  private async sync() {
    const chain = this.opts.chain;
    const head = hexNumber(await chain.request("eth_blockNumber"), "eth_blockNumber");
    if (!this.checked) await this.checkChain();
    this.checked = true;
    await this.followReorg(head);
    let said = Date.now();
    while (this.lastBlock < head && !this.stopped) {
      const from = this.lastBlock + 1, to = Math.min(head, from + this.window - 1);
      if (Date.now() - said > 10_000) {
        said = Date.now();
        this.opts.log(0, `hns: reading the chain's history: block ${from} of ${head}`);
      }
      let logs: HnsLog[];
      try {
        logs = await this.fetch(from, to);
      } catch (e) {
        // Providers limit ranges: read smaller windows (and grow again after success).
        if (this.window > 1 && !(e instanceof RpcError && /answered/.test(e.message))) {
          this.window = Math.max(1, Math.floor(this.window / 4));
          this.opts.log(
            1,
            `hns: eth_getLogs ${from}-${to} failed (${
              (e as Error).message.split("\n")[0]
            }); reading ${this.window} blocks at a time`,
          );
          continue;
        }
        throw e;
      }
      const hash = await this.blockHash(to);
      this.state.apply(logs);
      this.state.s.hashes[to] = hash;
      this.state.s.last_block = to;
      this.state.prune();
      if (logs.length) this.dirtySince ||= Date.now();
      this.publish();
      this.window = Math.min(this.opts.window ?? 10_000, this.window * 2);
    }
  }

  /** A chain with another id or genesis (a dev chain started anew) is indexed from its start. */
  private async checkChain() {
    const s = this.state.s;
    const id = await this.opts.chain.chainId();
    const genesis = await this.blockHash(0);
    if (s.chain_id === id && s.genesis === genesis) return;
    if (s.genesis) {
      this.opts.log(
        0,
        `hns: the chain at ${this.opts.chain.url} is a new chain (id ${id}); indexing it from its start`,
      );
    }
    const again = s.genesis !== "" && this.rounds > 0;
    // Identities net knows stay until the new chain says otherwise: on a dev chain started again, nodes register
    // again within moments, and a peer is better reachable on its old address than forgotten meanwhile.
    this.state.s = emptyState(id, genesis, this.startBlock(id));
    this.dirtySince ||= Date.now();
    // (At start the node has just registered on this chain: only a chain that changed under a running node asks.)
    if (again) await this.opts.onNewChain?.();
  }

  private startBlock(chainId: number): number {
    return this.opts.startBlock ?? firstBlock(chainId);
  }

  /** If the block we read up to is no longer on the chain, rolls back to the newest that is. */
  private async followReorg(head: number) {
    const s = this.state.s;
    const known = s.hashes[s.last_block];
    if (s.last_block < 0 || !known) return;
    if (s.last_block <= head && await this.blockHash(s.last_block) === known) return;
    const heights = Object.keys(s.hashes).map(Number).sort((a, b) => b - a);
    let ancestor = -1;
    for (const h of heights) {
      if (h <= head && await this.blockHash(h) === s.hashes[h]) {
        ancestor = h;
        break;
      }
    }
    if (ancestor < 0) {
      this.opts.log(0, `hns: the chain reorganized deeper than ${heights.length} remembered blocks; indexing anew`);
      this.state.s = emptyState(s.chain_id, s.genesis, this.startBlock(s.chain_id));
      for (const name of this.announced) this.forget(name);
      // A dev chain started again within the second its predecessor started has the same genesis: it is new all the
      // same, and a node that registered itself there registers again (at start it has just registered).
      if (this.rounds > 0) await this.opts.onNewChain?.();
    } else {
      this.opts.log(0, `hns: the chain reorganized after block ${ancestor}; rolled back from block ${s.last_block}`);
      this.state.rollback(ancestor);
    }
    this.dirtySince ||= Date.now();
    this.publish();
  }

  private async blockHash(n: number): Promise<string> {
    const b = await this.opts.chain.request("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
    const hash = (b as { hash?: unknown } | null)?.hash;
    if (b === null) return "";
    if (typeof hash !== "string" || !/^0x[0-9a-f]{64}$/i.test(hash)) {
      throw new RpcError(`eth_getBlockByNumber(${n}) answered ${show(b)}`);
    }
    return hash.toLowerCase();
  }

  /** Mint and HNS Note logs of blocks from..to, in chain order. */
  private async fetch(from: number, to: number): Promise<HnsLog[]> {
    const range = { address: HYPERMAP, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` };
    const [mints, notes] = await Promise.all([
      this.opts.chain.request("eth_getLogs", [{ ...range, topics: [MINT_TOPIC] }]),
      this.opts.chain.request("eth_getLogs", [{ ...range, topics: [NOTE_TOPIC, null, null, HNS_NOTE_HASHES] }]),
    ]);
    const out: HnsLog[] = [];
    for (const raw of [mints, notes]) {
      if (!Array.isArray(raw)) throw new RpcError(`eth_getLogs answered ${show(raw)}`);
      for (const r of raw) {
        try {
          out.push(decodeLog(r));
        } catch (e) {
          this.malformed++;
          this.warn(`hns: ignored a malformed log: ${(e as Error).message}`);
        }
      }
    }
    return out.sort((a, b) => a.block - b.block || a.index - b.index);
  }

  private warn(text: string) {
    this.opts.log(1, text);
  }

  /** Hands every changed node to net (or takes back one no longer complete). */
  private publish() {
    for (const name of this.state.take()) this.announce(name);
  }

  private announce(name: string) {
    const u = ready(this.state.nodes[name]);
    if (u) {
      this.announced.add(name);
      this.opts.onUpdate(u);
    } else this.forget(name);
  }

  private forget(name: string) {
    if (this.announced.delete(name)) this.opts.onForget?.(name);
  }

  /** Writes the state when it changed: at once when asked, else at most every 2 s. */
  private save(now: boolean) {
    if (!this.opts.stateFile || !this.state) return;
    const due = now || (this.dirtySince && Date.now() - this.savedAt > 2000);
    if (!due && !(Date.now() - this.savedAt > 30_000)) return;
    try {
      writeFileAtomicSync(this.opts.stateFile, new TextEncoder().encode(JSON.stringify(this.state.s)));
      this.savedAt = Date.now();
      this.dirtySince = 0;
    } catch (e) {
      this.opts.log(0, `hns: could not save the index to ${this.opts.stateFile}: ${(e as Error).message}`);
    }
  }
}

function hexNumber(v: unknown, what: string): number {
  if (typeof v !== "string" || !/^0x[0-9a-f]{1,13}$/i.test(v)) throw new RpcError(`${what} answered ${show(v)}`);
  return Number(v);
}

const HASH = /^0x[0-9a-f]{64}$/i;

/** A raw log as a Mint or Note; anything else throws (said once per log, then ignored). */
export function decodeLog(r: unknown): HnsLog {
  const l = r as { topics?: unknown; data?: unknown; blockNumber?: unknown; logIndex?: unknown };
  if (!l || typeof l !== "object") throw new Error(`not a log: ${show(r)}`);
  const topics = l.topics;
  if (!Array.isArray(topics) || topics.length !== 4 || !topics.every((t) => typeof t === "string" && HASH.test(t))) {
    throw new Error(`a Mint or Note has 4 topics: ${show(topics)}`);
  }
  if (typeof l.data !== "string" || !/^0x([0-9a-f]{2})*$/i.test(l.data)) throw new Error(`bad data ${show(l.data)}`);
  const block = hexNumber(l.blockNumber, "a log's blockNumber"), index = hexNumber(l.logIndex, "a log's logIndex");
  const [topic0, parent, hash, labelHash] = (topics as string[]).map((t) => t.toLowerCase() as Hex);
  const data = l.data as Hex;
  if (topic0 === MINT_TOPIC) {
    const [label] = decodeAbiParameters([{ type: "bytes" }], data);
    checkLabel(label, labelHash);
    return { kind: "Mint", block, index, parent, child: hash, label: hexToString(label) };
  }
  if (topic0 === NOTE_TOPIC) {
    const [label, bytes] = decodeAbiParameters([{ type: "bytes" }, { type: "bytes" }], data);
    checkLabel(label, labelHash);
    return { kind: "Note", block, index, parent, note: hash, label: hexToString(label), data: hexToBytes(bytes) };
  }
  throw new Error(`topic ${topic0} is neither Mint nor Note`);
}

function checkLabel(label: Hex, hash: Hex) {
  if (keccak256(label) !== hash) throw new Error(`its label's hash is not topic 3`);
  if (hexToBytes(label).length > 64) throw new Error(`a label of ${hexToBytes(label).length} bytes`);
  if (!new TextDecoder("utf-8", { fatal: true }).decode(hexToBytes(label))) throw new Error("an empty label");
}
