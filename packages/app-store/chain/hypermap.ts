/**
 * What chain:app-store:sys reads from Hypermap, through eth:distro:sys: JSON-RPC calls, the Note and Mint logs
 * (decoded by hand: one `bytes` field or two, no ABI library in the bundle), an entry's account (`get`), namehash.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { our, Request } from "@hyperdeno/process_lib";

export const HYPERMAP = "0x000000000044c6b8cb4d8f0f889a3e47664eaeda";
export const NOTE_TOPIC = "0xe40d9f1ec78dfc3c5a94c3edae28058ba092a8f65ce8a199731840a3d20f82f4";
export const MINT_TOPIC = "0xb59dae5eda69178326b6517bb1aa33e208bf2ac347e30d3a5daf0ecb6249f7b1";
export const ZERO_HASH = `0x${"00".repeat(32)}`;
/** The first block worth reading per chain (Hypermap's deployment; networks.ts has the same table). */
export const FIRST_BLOCK: Record<number, number> = { 31337: 0, 8453: 27_270_411 };
/** The chains tried, in order, when asking eth:distro:sys which one it serves. */
const CHAINS = [31337, 8453];

export class EthCallError extends Error {
  override name = "EthCallError";
}

const hex = (b: Uint8Array) => `0x${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}`;
export const keccakHex = (b: Uint8Array) => hex(keccak_256(b));

export function hexBytes(h: string): Uint8Array {
  const s = h.startsWith("0x") ? h.slice(2) : h;
  if (s.length % 2 || !/^[0-9a-fA-F]*$/.test(s)) throw new EthCallError(`not hex: ${h.slice(0, 20)}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export const labelhash = (label: string) => keccakHex(new TextEncoder().encode(label));

export function namehash(name: string): string {
  let node = hexBytes(ZERO_HASH);
  if (name === "") return ZERO_HASH;
  for (const label of name.split(".").reverse()) {
    node = keccak_256(new Uint8Array([...node, ...keccak_256(new TextEncoder().encode(label))]));
  }
  return hex(node);
}

export class Eth {
  chainId = 0;

  private async call(chainId: number, method: string, params: unknown[]): Promise<unknown> {
    const r = await Request.to(`${our().node}@eth:distro:sys`).json({ Request: { chain_id: chainId, method, params } })
      .sendAndAwaitResponse(60);
    const v = r.json<{ Response?: unknown; Err?: unknown }>();
    if (v && typeof v === "object" && "Response" in v) return v.Response;
    throw new EthCallError(`${method}: ${JSON.stringify(v?.Err ?? v).slice(0, 200)}`);
  }

  request(method: string, params: unknown[] = []): Promise<unknown> {
    return this.call(this.chainId, method, params);
  }

  /** Finds the chain eth:distro:sys serves (it refuses the others with NoRpcForChain). */
  async connect(): Promise<number> {
    for (const id of CHAINS) {
      try {
        const got = await this.call(id, "eth_chainId", []);
        if (Number(got) === id) return this.chainId = id;
      } catch (e) {
        if (!String((e as Error).message).includes("NoRpcForChain")) throw e;
      }
    }
    throw new EthCallError(`the node's chain is none of ${CHAINS.join(", ")}`);
  }

  async blockNumber(): Promise<number> {
    const n = Number(await this.request("eth_blockNumber"));
    if (!Number.isSafeInteger(n)) throw new EthCallError("eth_blockNumber answered no number");
    return n;
  }

  /** The hash of block `n`, or null when the chain has no such block (it went back). */
  async blockHash(n: number): Promise<string | null> {
    const b = await this.request("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]) as { hash?: unknown } | null;
    return b && typeof b.hash === "string" ? b.hash.toLowerCase() : null;
  }

  async logs(filter: Record<string, unknown>): Promise<RawLog[]> {
    const logs = await this.request("eth_getLogs", [filter]);
    if (!Array.isArray(logs)) throw new EthCallError("eth_getLogs answered no list");
    return logs as RawLog[];
  }

  /** Hypermap's get(namehash): the entry's account, or null when it has none. */
  async tbaOf(hash: string): Promise<string | null> {
    // get(bytes32) → (address tba, address owner, bytes data)
    const data = `0x${keccakHex(new TextEncoder().encode("get(bytes32)")).slice(2, 10)}${hash.slice(2)}`;
    const out = await this.request("eth_call", [{ to: HYPERMAP, data }, "latest"]);
    if (typeof out !== "string" || out.length < 2 + 64) throw new EthCallError("get answered nothing");
    const tba = `0x${out.slice(2 + 24, 2 + 64)}`;
    return /^0x0{40}$/.test(tba) ? null : checksum(tba);
  }
}

export interface RawLog {
  blockNumber?: string;
  blockHash?: string;
  logIndex?: string;
  topics?: string[];
  data?: string;
  removed?: boolean;
}

/** The `bytes` at ABI head word `i` of `data` (bounds checked: a log's data is the chain's, not trusted). */
function abiBytes(data: Uint8Array, i: number): Uint8Array {
  const word = (at: number) => {
    if (at + 32 > data.length) throw new EthCallError("log data ends early");
    const w = data.subarray(at, at + 32);
    if (w.subarray(0, 24).some((x) => x !== 0)) throw new EthCallError("log data has a huge offset");
    return new DataView(w.buffer, w.byteOffset + 24, 8).getUint32(4);
  };
  const offset = word(i * 32);
  const length = word(offset);
  if (offset + 32 + length > data.length) throw new EthCallError("log data ends early");
  return data.subarray(offset + 32, offset + 32 + length);
}

export interface NoteLog {
  block: number;
  index: number;
  blockHash: string;
  parent: string;
  label: string;
  data: Uint8Array;
}

/** A Note log: Note(bytes32 indexed parenthash, bytes32 indexed notehash, bytes indexed labelhash, bytes label, bytes data). */
export function decodeNote(l: RawLog): NoteLog {
  const t = l.topics ?? [];
  if (t[0]?.toLowerCase() !== NOTE_TOPIC || t.length !== 4) throw new EthCallError("not a Note log");
  const data = hexBytes(l.data ?? "0x");
  const label = new TextDecoder().decode(abiBytes(data, 0));
  if (labelhash(label) !== t[3].toLowerCase()) throw new EthCallError("a Note whose label is not its labelhash");
  return {
    block: Number(l.blockNumber),
    index: Number(l.logIndex),
    blockHash: String(l.blockHash ?? "").toLowerCase(),
    parent: t[1].toLowerCase(),
    label,
    data: abiBytes(data, 1),
  };
}

/** Mint(bytes32 indexed parenthash, bytes32 indexed childhash, bytes indexed labelhash, bytes label). */
export function decodeMint(l: RawLog): { parent: string; child: string; label: string } {
  const t = l.topics ?? [];
  if (t[0]?.toLowerCase() !== MINT_TOPIC || t.length !== 4) throw new EthCallError("not a Mint log");
  return {
    parent: t[1].toLowerCase(),
    child: t[2].toLowerCase(),
    label: new TextDecoder().decode(abiBytes(hexBytes(l.data ?? "0x"), 0)),
  };
}

/** EIP-55 mixed-case address. */
export function checksum(address: string): string {
  const a = address.toLowerCase().replace(/^0x/, "");
  const h = keccakHex(new TextEncoder().encode(a)).slice(2);
  return `0x${[...a].map((c, i) => parseInt(h[i], 16) >= 8 ? c.toUpperCase() : c).join("")}`;
}
