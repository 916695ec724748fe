/**
 * Puts Hypermap on a dev chain as kit does: runtime code installed at the real addresses with anvil_setCode
 * (Hypermap and Multicall3; no constructor runs), initialize(account #0) to create the root, then the `os` and `dev`
 * names minted under the root by its owner, each a Mint that indexers read. Safe to run twice and from two nodes
 * at once: what is there already is kept.
 */
import { type Abi, encodeFunctionData, type Hex, stringToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ChainClient } from "./client.ts";
import {
  accountAbi,
  DEV_ACCOUNT_KEY,
  DEV_PARENTS,
  HYPERMAP,
  HYPERMAP_CODE,
  hypermapAbi,
  MULTICALL3,
  MULTICALL3_CODE,
  namehash,
  ZERO_HASH,
} from "./hypermap.ts";

export const DEV_ACCOUNT = privateKeyToAccount(DEV_ACCOUNT_KEY).address;

/** The account ABI with Hypermap's errors, so a revert inside Hypermap is reported by name. */
export const writeAbi = [...accountAbi, ...hypermapAbi.filter((x) => x.type === "error")] as Abi;

export type Entry = readonly [tba: Hex, owner: Hex, data: Hex];

export function getEntry(chain: ChainClient, hash: Hex): Promise<Entry> {
  return chain.read<Entry>(HYPERMAP, hypermapAbi, "get", [hash]);
}

const NO_ADDRESS = /^0x0{40}$/i;
export const exists = (e: Entry) => !NO_ADDRESS.test(e[0]);

/** Whether the dev chain already carries Hypermap with its parents. */
export async function deployed(chain: ChainClient): Promise<boolean> {
  const code = await chain.request("eth_getCode", [HYPERMAP, "latest"]);
  if (typeof code !== "string" || code.length <= 2) return false;
  for (const p of DEV_PARENTS) if (!exists(await getEntry(chain, namehash(p)))) return false;
  return true;
}

export async function deployHypermap(chain: ChainClient): Promise<void> {
  if (await deployed(chain)) return;
  for (const [address, code] of [[HYPERMAP, HYPERMAP_CODE], [MULTICALL3, MULTICALL3_CODE]] as const) {
    const now = await chain.request("eth_getCode", [address, "latest"]);
    if (now !== code) await chain.request("anvil_setCode", [address, code]);
  }
  if (!exists(await getEntry(chain, ZERO_HASH))) {
    await ignoring("AlreadyInitialized", chain.send(HYPERMAP, hypermapAbi, "initialize", [DEV_ACCOUNT]));
  }
  const [rootTba] = await getEntry(chain, ZERO_HASH);
  for (const label of DEV_PARENTS) {
    if (exists(await getEntry(chain, namehash(label)))) continue;
    const mint = encodeFunctionData({
      abi: hypermapAbi,
      functionName: "mint",
      args: [DEV_ACCOUNT, stringToHex(label), "0x", NO_IMPLEMENTATION],
    });
    await ignoring("NameAlreadyExists", chain.send(rootTba, writeAbi, "execute", [HYPERMAP, 0n, mint, 0]));
  }
}

export const NO_IMPLEMENTATION = "0x0000000000000000000000000000000000000000" as const;

/** Another node deploying at the same moment got there first: fine. */
async function ignoring(error: string, p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (!String((e as Error).message).includes(error)) throw e;
  }
}
