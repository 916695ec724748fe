/**
 * Following the chain: Note logs for ~metadata-uri and ~metadata-hash read from the first block on, in windows,
 * then as new blocks come. Each round first checks the hash of the newest block it read; a changed one (a
 * reorganization, or a dev chain reverted) walks back through the kept hashes to the newest that still matches,
 * deletes the notes read above it and works the touched entries out again, so an undone publish is undone here.
 * An entry's listing is a function of its newest notes: no URI (or an empty one) is not published; else the
 * metadata at the URI, verified against the hash, is listed, or the entry is kept unlisted with the reason.
 */
import { dropCapabilities, our, printToTerminal, Request, timer } from "@hyperdeno/process_lib";
import type { PackageId } from "../api/chain.ts";
import { METADATA_HASH_NOTE, METADATA_URI_NOTE } from "../api/chain.ts";
import { toOnchainMetadata } from "../api/metadata.ts";
import {
  decodeMint,
  decodeNote,
  Eth,
  FIRST_BLOCK,
  HYPERMAP,
  labelhash,
  MINT_TOPIC,
  namehash,
  NOTE_TOPIC,
  ZERO_HASH,
} from "./hypermap.ts";
import type { Store } from "./store.ts";
import { fetchAndVerify } from "./verify.ts";

/** Blocks per eth_getLogs at most (shrinks when the provider refuses a range). */
const WINDOW = 10_000;
const NOTE_HASHES = [labelhash(METADATA_URI_NOTE), labelhash(METADATA_HASH_NOTE)];
const toHex = (n: number) => `0x${n.toString(16)}`;
const text = (hex: string) => {
  const s = hex.startsWith("0x") ? hex.slice(2) : hex;
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return new TextDecoder().decode(b);
};
const DEV_CHAIN_ID = 31337;

/**
 * A localhost metadata URI is how apps are published on the dev chain. On a public chain anyone may publish, and a
 * URI naming this machine or its network would make every node fetch there: the process gives the capability up,
 * so http-client refuses such addresses (after resolving the name) and the app stays unlisted with that reason.
 */
async function dropLocalNetwork() {
  const issuer = `${our().node}@http-client:distro:sys`;
  await dropCapabilities([{ issuer, params: JSON.stringify("local-network") }]);
}

const bytesHex = (b: Uint8Array) => `0x${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}`;

export class Follower {
  readonly eth = new Eth();
  lastBlock = -1;
  private window = WINDOW;
  private resetWanted = false;
  private failing = "";
  private retryMs = 1000;
  /** Entries whose listing could not be worked out (the chain did not answer): tried again each round. */
  private unsettled = new Set<string>();
  /** The newest block read and its hash (kept in memory: checked every round without asking SQLite). */
  private newest: [number, string] | null = null;

  constructor(private store: Store, private pollMs: number) {}

  /** Asks the loop to drop the index and read the chain again (ChainRequest::Reset). */
  reset() {
    this.resetWanted = true;
  }

  private first(): number {
    return FIRST_BLOCK[this.eth.chainId] ?? 0;
  }

  /** Runs forever: connect, catch up, follow. A round that fails is said once and tried again. */
  async run(): Promise<never> {
    while (true) {
      try {
        if (!this.eth.chainId) await this.start();
        if (this.resetWanted) {
          this.resetWanted = false;
          await this.store.dropIndex();
          await this.start();
        }
        const caughtUp = await this.round();
        if (this.failing) printToTerminal(0, "app-store chain: reading the chain again");
        this.failing = "";
        this.retryMs = 1000;
        if (caughtUp) await timer.setAndAwaitTimer(this.pollMs);
      } catch (e) {
        const why = (e as Error).message;
        if (why !== this.failing) printToTerminal(0, `app-store chain: ${why}; trying again`);
        this.failing = why;
        this.window = Math.max(100, Math.floor(this.window / 2));
        // A chain that keeps failing (none configured, an RPC down) is asked less and less often, at most every 30 s.
        this.retryMs = Math.min(30_000, this.retryMs * 2);
        await timer.setAndAwaitTimer(this.retryMs).catch(() => {});
      }
    }
  }

  /** Which chain, and whether it is the one the index was made from (a dev chain started anew is not). */
  private async start() {
    this.newest = null;
    const chainId = await this.eth.connect();
    if (chainId !== DEV_CHAIN_ID) await dropLocalNetwork();
    const genesis = await this.eth.blockHash(0) ?? "";
    const [savedId, savedGenesis] = [await this.store.meta("chain_id"), await this.store.meta("genesis")];
    if (savedId !== String(chainId) || savedGenesis !== genesis) {
      if (savedId !== null) printToTerminal(0, "app-store chain: another chain than before; indexing it anew");
      await this.store.dropIndex();
      await this.store.setMeta("chain_id", String(chainId));
      await this.store.setMeta("genesis", genesis);
    }
    const saved = await this.store.meta("last_block");
    this.lastBlock = saved === null ? this.first() - 1 : Number(saved);
    // Entries whose metadata could not be fetched get another try each start, as do entries whose notes were saved
    // but not yet worked out when the process stopped.
    for (const parent of await this.store.unlistedParents("FetchFailed")) this.unsettled.add(parent);
    for (const parent of await this.store.unsettledParents()) this.unsettled.add(parent);
    await this.settleAll();
  }

  /** One round; true when the index reached the chain's head. */
  private async round(): Promise<boolean> {
    const head = await this.eth.blockNumber();
    await this.checkReorg(head);
    if (this.unsettled.size) await this.settleAll();
    if (head <= this.lastBlock) return true;
    const from = this.lastBlock + 1, to = Math.min(head, from + this.window - 1);
    const raw = await this.eth.logs({
      address: HYPERMAP,
      topics: [NOTE_TOPIC, null, null, NOTE_HASHES],
      fromBlock: toHex(from),
      toBlock: toHex(to),
    });
    const notes = [];
    for (const l of raw) {
      if (l.removed) continue;
      try {
        const n = decodeNote(l);
        if (n.block < from || n.block > to) continue;
        notes.push({ ...n, data: bytesHex(n.data) });
      } catch (e) {
        printToTerminal(1, `app-store chain: a malformed Note log skipped: ${(e as Error).message}`);
      }
    }
    const names = await this.mintedNames(from, to);
    const toHash = await this.eth.blockHash(to);
    if (!toHash) return false; // the chain went back under us: the next round finds out how far
    const hashes: [number, string][] = [[to, toHash], ...notes.map((n) => [n.block, n.blockHash] as [number, string])];
    await this.store.saveWindow(notes, hashes, to, names);
    this.newest = [to, toHash];
    this.lastBlock = to;
    this.window = Math.min(WINDOW, this.window * 2);
    for (const parent of notes.map((n) => n.parent)) this.unsettled.add(parent);
    await this.settleAll();
    return to === head;
  }

  /**
   * The names the window's Mint logs make, parents before children, each checked by hashing it: an entry's name is
   * then known here without a query over the whole history (which public RPCs refuse). A name never changes its
   * namehash, so a Mint a reorganization undoes leaves nothing wrong behind.
   */
  private async mintedNames(from: number, to: number): Promise<[string, string][]> {
    const logs = await this.eth.logs({
      address: HYPERMAP,
      topics: [MINT_TOPIC],
      fromBlock: toHex(from),
      toBlock: toHex(to),
    });
    const found = new Map<string, string>();
    for (const l of logs) {
      if (l.removed) continue;
      let m;
      try {
        m = decodeMint(l);
      } catch {
        continue;
      }
      const parent = m.parent === ZERO_HASH ? "" : found.get(m.parent) ?? await this.store.name(m.parent);
      if (parent === null || !/^[a-z0-9-]{1,63}$/.test(m.label)) continue;
      const name = parent ? `${m.label}.${parent}` : m.label;
      if (namehash(name) === m.child) found.set(m.child, name);
    }
    return [...found];
  }

  /** Rolls back to the newest kept block whose hash the chain still has. */
  private async checkReorg(head: number) {
    this.newest ??= (await this.store.recentBlocks())[0] ?? null;
    if (!this.newest) return;
    const [newest, newestHash] = this.newest;
    if (newest <= head && await this.eth.blockHash(newest) === newestHash) return;
    const kept = await this.store.recentBlocks();
    let fork = this.first() - 1;
    for (const [n, h] of kept) {
      if (n <= head && await this.eth.blockHash(n) === h) {
        fork = n;
        break;
      }
    }
    printToTerminal(0, `app-store chain: the chain reorganized above block ${fork}; undoing what was read after it`);
    const touched = await this.store.rollBack(fork);
    this.newest = null;
    this.lastBlock = fork;
    for (const parent of touched) this.unsettled.add(parent);
    await this.settleAll();
  }

  /** Works out every entry waiting; one that fails waits for the next round, the others go on. */
  private async settleAll() {
    for (const parent of [...this.unsettled]) {
      try {
        await this.settle(parent);
        this.unsettled.delete(parent);
      } catch (e) {
        printToTerminal(1, `app-store chain: ${parent} waits for the next round: ${(e as Error).message}`);
      }
    }
  }

  /** Works out entry `parent`'s listing from its newest notes. */
  async settle(parent: string) {
    const uriNote = await this.store.latestNote(parent, METADATA_URI_NOTE);
    const hashNote = await this.store.latestNote(parent, METADATA_HASH_NOTE);
    const uri = uriNote ? text(uriNote.data) : "";
    const hash = hashNote ? text(hashNote.data) : "";
    if (!uri) return await this.store.drop(parent);
    const name = await this.store.name(parent);
    const dot = name?.indexOf(".") ?? -1;
    if (!name || dot < 1) {
      printToTerminal(1, `app-store chain: notes under ${parent}, which is no <package>.<publisher> entry`);
      return await this.store.drop(parent);
    }
    const package_id: PackageId = { package_name: name.slice(0, dot), publisher_node: name.slice(dot + 1) };
    const before = await this.store.listing(parent);
    const block = Math.max(uriNote?.block ?? 0, hashNote?.block ?? 0);
    if (before && before.metadata_uri === uri && before.metadata_hash === hash.toLowerCase()) return;
    const verified = await fetchAndVerify(package_id, uri, hash);
    if ("err" in verified) {
      printToTerminal(0, `app-store chain: ${name} not listed: ${JSON.stringify(verified.err)}`);
      return await this.store.setUnlisted(parent, {
        package_id,
        metadata_uri: uri,
        metadata_hash: hash,
        reason: verified.err,
      });
    }
    const metadata = toOnchainMetadata(verified.ok);
    const tba = await this.eth.tbaOf(parent) ?? "0x0000000000000000000000000000000000000000";
    await this.store.setListing({
      parent,
      package_id,
      tba,
      metadata_uri: uri,
      metadata_hash: hash.toLowerCase(),
      metadata,
      block,
    });
    printToTerminal(1, `app-store chain: listed ${name} ${metadata.properties.current_version}`);
    if (before && await this.store.autoUpdate(package_id)) {
      // As the reference: a new version of an app we auto-update goes to downloads.
      Request.to(`${our().node}@downloads:app-store:sys`).json({ AutoUpdate: { package_id, metadata } }).send();
    }
  }
}
