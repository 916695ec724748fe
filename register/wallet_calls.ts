/**
 * What the registration pages ask the chain, and the transactions they hand the wallet to send, encoded here with
 * viem (the same calls as chain/mint.ts, so a name registered in the browser is minted exactly as the reference's
 * register UI mints it):
 * - a new name: mint(owner, label, execute(Multicall3, 0, aggregate(notes), 1), HyperAccount) sent to the parent's
 *   account, whose minter is open (a dev chain's `.os`) or wants a commit first (Base's `.os`: commit(keccak256(
 *   abi.encode(label, owner))), wait, mint);
 * - a reset: the same execute call sent to the name's own account by its owner.
 * The wallet signs and sends; the node only reads.
 */
import {
  decodeErrorResult,
  encodeAbiParameters,
  encodeFunctionData,
  type Hex,
  hexToBytes,
  keccak256,
  stringToHex,
} from "viem";
import type { ChainClient } from "../chain/client.ts";
import { exists, getEntry, sameAddress, writeAbi } from "../chain/deploy.ts";
import { decodeIp, decodePort, decodeRouterHashes, minterAbi, namehash, validName } from "../chain/hypermap.ts";
import { mintCall, notesExecute } from "../chain/mint.ts";
import { hnsNotes, type Publish } from "../chain/register.ts";
import { ParseError } from "../runtime/types.ts";

/** The reference's register UI waits this long after a commit when the minter does not say (CommitDotOsName). */
const DEFAULT_COMMIT_AGE_S = 16;

export interface NameStatus {
  name: string;
  label: string;
  parent: string;
  parentTba: Hex;
  /** The name's entry: its account and owner, when it exists. */
  tba: Hex | null;
  owner: Hex | null;
  /** The parent's minter wants a commit first (and names of at least minLength). */
  commit: boolean;
  minLength: number;
  /** Seconds between a commit and its mint. */
  commitAge: number;
  /** Why `owner` cannot mint it, or null. */
  problem: string | null;
}

/** `alice` → `alice.os`; a name with a dot is kept. Lower case, checked against the contract's label rule. */
export function fullName(input: string): string {
  const name = input.trim().toLowerCase();
  const full = name.includes(".") ? name : `${name}.os`;
  const labels = full.split(".");
  if (full.length > 253 || !labels.every(validName)) {
    throw new ParseError(`"${input.slice(0, 80)}" is not a name: use a-z, 0-9 and - (like alice.os)`);
  }
  return full;
}

async function tryRead<T>(chain: ChainClient, to: Hex, fn: string, args: unknown[]): Promise<T | null> {
  try {
    return await chain.read<T>(to, minterAbi, fn, args);
  } catch {
    return null;
  }
}

/** Where `input` stands on chain: free to mint under its parent, or whose it is. */
export async function nameStatus(chain: ChainClient, input: string): Promise<NameStatus> {
  const name = fullName(input);
  const dot = name.indexOf(".");
  const label = name.slice(0, dot), parent = name.slice(dot + 1);
  const [parentTba, parentOwner] = await getEntry(chain, namehash(parent));
  const [tba, owner] = await getEntry(chain, namehash(name));
  const taken = exists([tba, owner, "0x"]);
  const base = { name, label, parent, parentTba, tba: taken ? tba : null, owner: taken ? owner : null };
  if (!exists([parentTba, parentOwner, "0x"])) {
    return { ...base, commit: false, minLength: 1, commitAge: 0, problem: `${parent} is not on this chain` };
  }
  // A commit minter answers getCommitHash; an open one does not have it.
  const commit = await tryRead<Hex>(chain, parentTba, "getCommitHash", [stringToHex(label), parentTba]) !== null;
  const minLength = commit ? Number(await tryRead<bigint>(chain, parentTba, "MIN_NAME_LENGTH", []) ?? 9n) : 1;
  const commitAge = commit
    ? Number(await tryRead<bigint>(chain, parentTba, "MIN_COMMIT_AGE", []) ?? BigInt(DEFAULT_COMMIT_AGE_S))
    : 0;
  const problem = taken
    ? `${name} is taken (owned by ${owner})`
    : label.length < minLength
    ? `${parent} names are at least ${minLength} characters: ${label} has ${label.length}`
    : null;
  return { ...base, commit, minLength, commitAge, problem };
}

export interface Tx {
  to: Hex;
  data: Hex;
}

/** The commit a commit minter wants before `owner` mints `label`. */
export function commitTx(s: NameStatus, owner: Hex): Tx {
  const hash = keccak256(encodeAbiParameters([{ type: "bytes" }, { type: "address" }], [stringToHex(s.label), owner]));
  return { to: s.parentTba, data: encodeFunctionData({ abi: minterAbi, functionName: "commit", args: [hash] }) };
}

/** The mint of `s.name` for `owner`, its notes written by its new account in the same transaction. */
export function mintTx(s: NameStatus, owner: Hex, p: Publish): Tx {
  return { to: s.parentTba, data: mintCall(owner, s.label, notesExecute(hnsNotes(p))) };
}

/** New notes for a name that exists, sent by its owner to its account. */
export function resetTx(s: NameStatus, owner: Hex, p: Publish): Tx {
  if (!s.tba || !s.owner) throw new ParseError(`${s.name} is not on this chain: register it instead`);
  if (!sameAddress(s.owner, owner)) {
    throw new ParseError(`${s.name} is owned by ${s.owner}, not by the connected wallet ${owner}`);
  }
  return { to: s.tba, data: notesExecute(hnsNotes(p)) };
}

/**
 * Would `tx` from `from` go through in the next block? null if so, else the contract's error name (or the RPC's
 * message). Asked of the pending block: a commit's age is counted in block time, and a chain that mines only on
 * transactions (anvil) keeps its latest block's time until the next one.
 */
export async function simulate(chain: ChainClient, from: Hex, tx: Tx): Promise<string | null> {
  try {
    await chain.request("eth_call", [{ from, to: tx.to, data: tx.data }, "pending"]);
    return null;
  } catch (e) {
    const data = revertData(e);
    if (data) {
      try {
        return decodeErrorResult({ abi: writeAbi, data }).errorName;
      } catch { /* not one of ours */ }
    }
    return String((e as Error).message).split("\n")[0].slice(0, 200);
  }
}

function revertData(e: unknown): Hex | null {
  for (let x = e as { data?: unknown; cause?: unknown } | undefined; x; x = x.cause as typeof x) {
    if (typeof x.data === "string" && /^0x[0-9a-f]*$/i.test(x.data) && x.data.length >= 10) return x.data as Hex;
  }
  return null;
}

/** The name's networking notes as the chain holds them (what the reference's assign_routing reads). */
export interface OnChain {
  netKey: Hex | null;
  ip: string | null;
  tcp: number | null;
  ws: number | null;
  routerHashes: Hex[];
}

export async function notesOnChain(chain: ChainClient, name: string): Promise<OnChain> {
  const note = async (n: string) => (await getEntry(chain, namehash(`${n}.${name}`)))[2];
  const [key, ip, tcp, ws, routers] = await Promise.all(
    ["~net-key", "~ip", "~tcp-port", "~ws-port", "~routers"].map(note),
  );
  const maybe = <T>(f: () => T): T | null => {
    try {
      return f();
    } catch {
      return null;
    }
  };
  return {
    netKey: key === "0x" ? null : key,
    ip: ip === "0x" ? null : maybe(() => decodeIp(hexToBytes(ip))),
    tcp: tcp === "0x" ? null : maybe(() => decodePort(hexToBytes(tcp))),
    ws: ws === "0x" ? null : maybe(() => decodePort(hexToBytes(ws))),
    routerHashes: routers === "0x" ? [] : maybe(() => decodeRouterHashes(hexToBytes(routers))) ?? [],
  };
}

/** Polls a transaction's receipt until it is in a block (or `ms` pass): "success" or "reverted". */
export async function receipt(chain: ChainClient, hash: Hex, ms = 120_000): Promise<{ ok: boolean; block: number }> {
  const until = Date.now() + ms;
  for (let wait = 100; Date.now() < until; wait = Math.min(wait * 2, 2000)) {
    const r = await chain.request("eth_getTransactionReceipt", [hash]) as { status?: unknown; blockNumber?: unknown };
    if (r && typeof r.status === "string" && typeof r.blockNumber === "string") {
      return { ok: r.status === "0x1", block: Number(r.blockNumber) };
    }
    await new Promise((res) => setTimeout(res, wait));
  }
  throw new ParseError(`transaction ${hash} is not in a block after ${ms / 1000} s: check it in your wallet`);
}
