/**
 * The chains a node knows by id: where Hypermap's history starts on each, so the indexer reads from there and
 * nothing else assumes the dev chain. Hypermap's and its helpers' addresses are the same on every chain
 * (hypermap.ts); a name's account differs only through the chain id in its ERC-6551 derivation (accounts.ts).
 *
 * Base is the reference's chain (process_lib's hypermap.rs: chain id 8453, first block 27,270,411, "the first block
 * (minus one) of the Hypermap deployment"). Optimism carried the Kinode-era KNS, not Hypermap: no source gives a
 * Hypermap deployment there, so it is not in the table, and like any chain missing from it a node reads it from 0.
 */
import { DEV_CHAIN_ID } from "./hypermap.ts";

export interface Network {
  chainId: number;
  name: string;
  /** The first block worth reading for Hypermap's logs. */
  firstBlock: number;
  /** A local anvil chain set up by hyperdeno or kit: the dev account may deploy and register on it. */
  dev: boolean;
}

export const NETWORKS: readonly Network[] = [
  { chainId: 8453, name: "Base", firstBlock: 27_270_411, dev: false },
  { chainId: DEV_CHAIN_ID, name: "the dev chain (anvil)", firstBlock: 0, dev: true },
];

export const BASE = NETWORKS[0];

export function networkOf(chainId: number): Network | undefined {
  return NETWORKS.find((n) => n.chainId === chainId);
}

/** Where Hypermap's history starts on `chainId` (0 for a chain not in the table). */
export function firstBlock(chainId: number): number {
  return networkOf(chainId)?.firstBlock ?? 0;
}

/** A chain's name for people: Base, the dev chain, or "chain 10". */
export function chainName(chainId: number): string {
  return networkOf(chainId)?.name ?? `chain ${chainId}`;
}
