/**
 * Hypermap as HNS reads and writes it: the reference deployment's addresses, the ABIs (of contracts/, which have the
 * reference's signatures), namehash, and the byte encodings of the HNS notes (~net-key, ~ip, ~tcp-port, ~ws-port,
 * ~routers).
 */
import { type Abi, type Hex, keccak256, toBytes, toHex as hexOf } from "viem";
import hypermapArtifact from "../contracts/out/Hypermap.json" with { type: "json" };
import accountArtifact from "../contracts/out/HyperAccount.json" with { type: "json" };
import minterArtifact from "../contracts/out/HyperAccount9CharCommitMinter.json" with { type: "json" };
import multicallArtifact from "../contracts/out/Multicall3.json" with { type: "json" };

/** Hypermap's (ERC-1967 proxy) address, the same on Base and on the dev chain. */
export const HYPERMAP = "0x000000000044C6B8Cb4d8f0F889a3E47664EAeda" as const;
/** The implementation behind the proxy on kit's chain (and ours). */
export const HYPERMAP_IMPLEMENTATION = "0x000000000013a0486EBDc2DB1D7B4d1f7fCA92eD" as const;
export const MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11" as const;
/** The canonical ERC-6551 registry. */
export const ERC6551_REGISTRY = "0x000000006551c19487814612e58FE06813775758" as const;
/** HyperAccount: the implementation a name's account gets at mint (Hyperdrive's HYPER_ACCOUNT_IMPL). */
export const HYPER_ACCOUNT = "0x0000000000EDAd72076CBe7b9Cfa3751D5a85C97" as const;
/** The open minter (anyone mints under an entry with it): `.os`'s implementation on a dev chain, as kit sets it. */
export const HYPER_ACCOUNT_MINTER = "0xE01dCbD3Ed5f709874A1eA7a25677de18C8661c9" as const;
/** The 9-character commit minter (Base's `.os` flow: commit, wait, mint). */
export const HYPER_ACCOUNT_COMMIT_MINTER = "0x0000000000676c29D858EFE19e61284C35942934" as const;
/** The root's and `.os`'s accounts on chain 31337 (ERC-6551 addresses; accounts.ts derives them). */
export const ZEROTH_TBA = "0x809A598d9883f2Fb6B77382eBfC9473Fd6A857c9" as const;
export const DOT_OS_TBA = "0x9b3853358ede717fc7D4806cF75d7A4d4517A9C9" as const;
/** anvil's chain id; Base is 8453. */
export const DEV_CHAIN_ID = 31337;
/** anvil's account #0: it deploys the dev chain, owns `os` and `dev`, and mints fake names to their nodes' accounts. */
export const DEV_ACCOUNT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" as const;
/** The parents a dev chain starts with: kit's `*.os` and the book's `*.dev`. */
export const DEV_PARENTS = ["os", "dev"];

export const hypermapAbi = hypermapArtifact.abi as Abi;
export const accountAbi = accountArtifact.abi as Abi;
export const multicallAbi = multicallArtifact.abi as Abi;
/** A minter account's ABI: mint (anyone, or after a commit), commit, getCommitHash, and the account's own. */
export const minterAbi = minterArtifact.abi as Abi;

export const ZERO_HASH = `0x${"00".repeat(32)}` as Hex;

export const labelhash = (label: string): Hex => keccak256(toBytes(label));

/** keccak256(parent ++ keccak256(label)), as Hypermap's leaf(). */
export function leaf(parent: Hex, label: string): Hex {
  return keccak256(new Uint8Array([...toBytes(parent), ...toBytes(labelhash(label))]));
}

/** ENS-style namehash without normalization: the root is 32 zero bytes, labels walked right to left. */
export function namehash(name: string): Hex {
  let node = ZERO_HASH;
  if (name === "") return node;
  for (const label of name.split(".").reverse()) node = leaf(node, label);
  return node;
}

/** The HNS notes and their labels' hashes (the Note filter's topic 3). */
export const HNS_NOTES = ["~net-key", "~ip", "~tcp-port", "~ws-port", "~routers"] as const;
export type HnsNote = typeof HNS_NOTES[number];
export const HNS_NOTE_HASHES = HNS_NOTES.map(labelhash);

/** A name is 1-63 of a-z, 0-9, -; a note is ~ and 1-62 of them (the contract's rules). */
export const validName = (label: string) => /^[a-z0-9-]{1,63}$/.test(label);
export const validNote = (label: string) => /^~[a-z0-9-]{1,62}$/.test(label);

export function encodeIp(ip: string): Uint8Array {
  const v4 = ip.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.every((x) => x <= 255)) return new Uint8Array(b);
  }
  if (ip.includes(":")) {
    const [head, tail = ""] = ip.split("::");
    const h = head ? head.split(":") : [], t = tail ? tail.split(":") : [];
    const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
    if (groups.length === 8 && groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) {
      return new Uint8Array(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
    }
  }
  throw new Error(`not an IPv4 or IPv6 address: ${ip}`);
}

export function decodeIp(b: Uint8Array): string {
  if (b.length === 4) return [...b].join(".");
  if (b.length === 16) {
    const g: string[] = [];
    for (let i = 0; i < 16; i += 2) g.push(((b[i] << 8) | b[i + 1]).toString(16));
    return g.join(":");
  }
  throw new Error(`an ip note is 4 or 16 bytes, not ${b.length}`);
}

export const encodePort = (port: number) => new Uint8Array([port >> 8, port & 255]);

export function decodePort(b: Uint8Array): number {
  if (b.length !== 2) throw new Error(`a port note is 2 bytes, not ${b.length}`);
  return (b[0] << 8) | b[1];
}

/** ~routers: the routers' namehashes, concatenated (as Hyperdrive's register UI and indexer do). */
export function encodeRouters(routers: string[]): Uint8Array {
  return new Uint8Array(routers.flatMap((r) => [...toBytes(namehash(r))]));
}

export function decodeRouterHashes(b: Uint8Array): Hex[] {
  if (b.length % 32 !== 0) throw new Error(`a routers note is a multiple of 32 bytes, not ${b.length}`);
  const out: Hex[] = [];
  for (let i = 0; i < b.length; i += 32) out.push(hexOf(b.subarray(i, i + 32)));
  return out;
}
