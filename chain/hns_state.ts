/**
 * What the HNS indexer knows, and how it changes: names by namehash, nodes by name, notes waiting for their
 * parent, and an undo journal per block so a chain reorganization can be rolled back. Pure data: no RPC here.
 */
import type { Hex } from "viem";
import type { HnsUpdate } from "../runtime/api/net.ts";
import { validateUpdate } from "../runtime/api/net.ts";
import { fromHex, toHex } from "../runtime/bytes.ts";
import { decodeIp, decodePort, decodeRouterHashes, leaf, validName, validNote, ZERO_HASH } from "./hypermap.ts";

/** A node as its notes describe it so far (public_key "" until ~net-key). */
export type NodeRecord = HnsUpdate;

export interface MintLog {
  kind: "Mint";
  block: number;
  index: number;
  parent: Hex;
  child: Hex;
  label: string;
}

export interface NoteLog {
  kind: "Note";
  block: number;
  index: number;
  parent: Hex;
  note: Hex;
  label: string;
  data: Uint8Array;
}

export type HnsLog = MintLog | NoteLog;

/** A log waiting for something it names (its parent, or a router) to be minted; a note's data as hex (saved as JSON). */
type Waiting = MintLog | (Omit<NoteLog, "data"> & { data: string });

type Undo =
  | { kind: "name"; key: Hex; before: string | null }
  | { kind: "node"; key: string; before: NodeRecord | null }
  | { kind: "unwait"; entry: Waiting };

export interface Saved {
  version: 1;
  chain_id: number;
  genesis: string;
  last_block: number;
  names: Record<string, string>;
  nodes: Record<string, NodeRecord>;
  waiting: Waiting[];
  /** Hashes of recent blocks we read up to, for finding where a reorganization starts. */
  hashes: Record<string, string>;
  undo: Record<string, Undo[]>;
}

/** Blocks of undo journal and hashes kept: a reorganization deeper than this re-indexes from the start. */
export const REORG_DEPTH = 128;
/** Logs waiting for a parent, at most (the oldest are dropped beyond). */
export const MAX_WAITING = 10_000;

export function emptyState(chainId: number, genesis: string, startBlock: number): Saved {
  return {
    version: 1,
    chain_id: chainId,
    genesis,
    last_block: startBlock - 1,
    names: {},
    nodes: {},
    waiting: [],
    hashes: {},
    undo: {},
  };
}

const emptyNode = (name: string): NodeRecord => ({ name, public_key: "", ips: [], ports: {}, routers: [] });

/** The node as net takes it, or null while it is incomplete or invalid. */
export function ready(n: NodeRecord | undefined): HnsUpdate | null {
  if (!n || !n.public_key) return null;
  if (!n.routers.length && !(n.ips.length && Object.keys(n.ports).length)) return null;
  try {
    return validateUpdate(n);
  } catch {
    return null;
  }
}

export class HnsState {
  /** Names whose node changed since the last take(). */
  private touched = new Set<string>();

  constructor(public s: Saved, private warn: (text: string) => void) {}

  get names(): Record<string, string> {
    return this.s.names;
  }
  get nodes(): Record<string, NodeRecord> {
    return this.s.nodes;
  }

  /** Names changed since the last call. */
  take(): string[] {
    const t = [...this.touched];
    this.touched.clear();
    return t;
  }

  private journal(block: number, u: Undo) {
    (this.s.undo[block] ??= []).push(u);
  }

  private setName(block: number, hash: Hex, name: string) {
    this.journal(block, { kind: "name", key: hash, before: this.s.names[hash] ?? null });
    this.s.names[hash] = name;
  }

  private setNode(block: number, n: NodeRecord) {
    this.journal(block, { kind: "node", key: n.name, before: this.s.nodes[n.name] ?? null });
    this.s.nodes[n.name] = n;
    this.touched.add(n.name);
  }

  /** Applies logs in chain order, then whatever waited for them. */
  apply(logs: HnsLog[]) {
    for (const l of logs) this.applyOne(l, l.block, true);
    // Only a Mint can make a waiting log's parent or routers known.
    if (logs.some((l) => l.kind === "Mint")) this.retryWaiting(logs.at(-1)?.block);
  }

  private applyOne(l: HnsLog, block: number, mayWait: boolean): boolean {
    if (leaf(l.parent, l.label) !== (l.kind === "Mint" ? l.child : l.note)) {
      this.warn(`hns: ignored a ${l.kind} in block ${l.block}: its hash is not leaf(parent, "${l.label}")`);
      return true;
    }
    const parent = l.parent === ZERO_HASH ? "" : this.s.names[l.parent];
    if (parent === undefined) {
      if (mayWait) this.wait(l);
      return false;
    }
    if (l.kind === "Mint") {
      if (!validName(l.label)) {
        this.warn(`hns: ignored a Mint in block ${l.block}: "${l.label.slice(0, 80)}" is not a valid name`);
        return true;
      }
      const name = parent ? `${l.label}.${parent}` : l.label;
      this.setName(block, l.child, name);
      // A name minted again (after a reorganization, or on another chain's history) starts with no notes.
      if (this.s.nodes[name]) this.setNode(block, emptyNode(name));
      return true;
    }
    if (!validNote(l.label)) return true;
    const prev = this.s.nodes[parent] ?? emptyNode(parent);
    const n: NodeRecord = { ...prev, ips: [...prev.ips], ports: { ...prev.ports }, routers: [...prev.routers] };
    try {
      switch (l.label) {
        case "~net-key":
          if (l.data.length !== 32) throw new Error(`a ~net-key is 32 bytes, not ${l.data.length}`);
          n.public_key = toHex(l.data);
          break;
        case "~ip":
          n.ips = [decodeIp(l.data)];
          n.routers = [];
          break;
        case "~tcp-port":
        case "~ws-port": {
          const port = decodePort(l.data), kind = l.label === "~tcp-port" ? "tcp" : "ws";
          if (port === 0) delete n.ports[kind];
          else n.ports[kind] = port;
          n.routers = [];
          break;
        }
        case "~routers": {
          const names = decodeRouterHashes(l.data).map((h) => this.s.names[h]);
          if (names.some((r) => r === undefined)) {
            if (mayWait) this.wait(l);
            return false;
          }
          n.routers = names as string[];
          n.ips = [];
          n.ports = {};
          break;
        }
        default:
          return true;
      }
    } catch (e) {
      this.warn(`hns: ignored ${l.label} of ${parent} in block ${l.block}: ${(e as Error).message}`);
      return true;
    }
    n.ports = Object.fromEntries(Object.entries(n.ports).sort());
    this.setNode(block, n);
    return true;
  }

  private wait(l: HnsLog) {
    const entry: Waiting = l.kind === "Note" ? { ...l, data: toHex(l.data) } : l;
    this.s.waiting.push(entry);
    if (this.s.waiting.length > MAX_WAITING) {
      const dropped = this.s.waiting.shift()!;
      this.warn(`hns: more than ${MAX_WAITING} logs wait for a parent; dropped the oldest (block ${dropped.block})`);
    }
  }

  /** Applies waiting logs whose parent (and routers) are now known, until none moves. */
  private retryWaiting(block?: number) {
    for (let moved = true; moved && this.s.waiting.length;) {
      moved = false;
      const still: Waiting[] = [];
      for (const w of this.s.waiting) {
        const l: HnsLog = w.kind === "Note" ? { ...w, data: fromHex(w.data) } : w;
        const at = Math.max(block ?? w.block, w.block);
        if (this.applyOne(l, at, false)) {
          this.journal(at, { kind: "unwait", entry: w });
          moved = true;
        } else still.push(w);
      }
      this.s.waiting = still;
    }
  }

  /** Undoes every change made in blocks after `block`; names whose node changed are touched. */
  rollback(block: number) {
    const blocks = Object.keys(this.s.undo).map(Number).filter((b) => b > block).sort((a, b) => b - a);
    for (const b of blocks) {
      for (const u of this.s.undo[b].reverse()) {
        if (u.kind === "name") {
          if (u.before === null) delete this.s.names[u.key];
          else this.s.names[u.key] = u.before;
        } else if (u.kind === "node") {
          if (u.before === null) delete this.s.nodes[u.key];
          else this.s.nodes[u.key] = u.before;
          this.touched.add(u.key);
        } else this.s.waiting.push(u.entry);
      }
      delete this.s.undo[b];
    }
    this.s.waiting = this.s.waiting.filter((w) => w.block <= block).sort((a, b) =>
      a.block - b.block || a.index - b.index
    );
    for (const k of Object.keys(this.s.hashes)) if (Number(k) > block) delete this.s.hashes[k];
    this.s.last_block = Math.min(this.s.last_block, block);
  }

  /** Forgets journal and hashes older than the reorganization depth. */
  prune() {
    const keep = this.s.last_block - REORG_DEPTH;
    for (const k of Object.keys(this.s.undo)) if (Number(k) < keep) delete this.s.undo[k];
    for (const k of Object.keys(this.s.hashes)) if (Number(k) < keep) delete this.s.hashes[k];
  }
}
