/**
 * Puts the reference's deployment on a dev chain, as kit's `chain` does, with our contracts: runtime code installed
 * with anvil_setCode at the reference's addresses (the ERC-6551 registry, Multicall3, HyperAccount, the minters,
 * Hypermap's implementation and its ERC-1967 proxy, and our account proxy where the reference keeps the root's and
 * `os`'s, so their accounts land at the reference's addresses), then initialize(account #0) for the root and the
 * parents `os` and `dev` minted through the root's account with the open minter as their implementation, each a Mint
 * that indexers read.
 *
 * Never damages a chain: code is installed only where there is none, and only when Hypermap's address has none (a
 * chain with a Hypermap, kit's or ours, is used as it is); a missing parent is minted through the real path (the
 * root's account, by its owner) or reported in one line. Safe to run twice and from two nodes at once.
 */
import { type Abi, encodeFunctionData, type Hex, pad, stringToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type ChainClient, failure } from "./client.ts";
import { referenceAccountProxy } from "./accounts.ts";
import {
  accountAbi,
  DEV_ACCOUNT_KEY,
  DEV_PARENTS,
  ERC6551_REGISTRY,
  HYPER_ACCOUNT,
  HYPER_ACCOUNT_COMMIT_MINTER,
  HYPER_ACCOUNT_MINTER,
  HYPERMAP,
  HYPERMAP_IMPLEMENTATION,
  hypermapAbi,
  minterAbi,
  MULTICALL3,
  namehash,
  ZERO_HASH,
} from "./hypermap.ts";
import { RegistrationError } from "../runtime/errors.ts";
import registry from "../contracts/out/ERC6551Registry.json" with { type: "json" };
import multicall from "../contracts/out/Multicall3.json" with { type: "json" };
import account from "../contracts/out/HyperAccount.json" with { type: "json" };
import minter from "../contracts/out/HyperAccountMinter.json" with { type: "json" };
import commitMinter from "../contracts/out/HyperAccount9CharCommitMinter.json" with { type: "json" };
import hypermap from "../contracts/out/Hypermap.json" with { type: "json" };
import hypermapProxy from "../contracts/out/HypermapProxy.json" with { type: "json" };
import accountProxy from "../contracts/out/HyperAccountProxy.json" with { type: "json" };

export const DEV_ACCOUNT = privateKeyToAccount(DEV_ACCOUNT_KEY).address;

/** ERC-1967's implementation slot: the Hypermap proxy reads its implementation's address there. */
export const IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc" as const;

/** What the dev chain's setup installs where it finds no code: address → runtime code. */
export const DEV_CHAIN_CODE: [Hex, Hex][] = [
  [ERC6551_REGISTRY, registry.deployedBytecode as Hex],
  [MULTICALL3, multicall.deployedBytecode as Hex],
  [HYPER_ACCOUNT, account.deployedBytecode as Hex],
  [HYPER_ACCOUNT_MINTER, minter.deployedBytecode as Hex],
  [HYPER_ACCOUNT_COMMIT_MINTER, commitMinter.deployedBytecode as Hex],
  [HYPERMAP_IMPLEMENTATION, hypermap.deployedBytecode as Hex],
  [referenceAccountProxy(ZERO_HASH), accountProxy.deployedBytecode as Hex],
  [referenceAccountProxy(namehash("os")), accountProxy.deployedBytecode as Hex],
];
export const HYPERMAP_PROXY_CODE = hypermapProxy.deployedBytecode as Hex;

/** Every ABI an account call can revert through, so a revert is reported by its error's name. */
export const writeAbi = dedupe([
  ...minterAbi,
  ...accountAbi,
  ...hypermapAbi.filter((x) => x.type === "error"),
  ...(accountProxy.abi as Abi).filter((x) => x.type === "error"),
]);

function dedupe(abi: Abi): Abi {
  const seen = new Set<string>();
  return abi.filter((x) => {
    const key = JSON.stringify([x.type, "name" in x ? x.name : "", "inputs" in x ? x.inputs : []]);
    return !seen.has(key) && seen.add(key);
  });
}

export type Entry = readonly [tba: Hex, owner: Hex, data: Hex];

export function getEntry(chain: ChainClient, hash: Hex): Promise<Entry> {
  return chain.read<Entry>(HYPERMAP, hypermapAbi, "get", [hash]);
}

const NO_ADDRESS = /^0x0{40}$/i;
export const exists = (e: Entry) => !NO_ADDRESS.test(e[0]);
export const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export async function hasCode(chain: ChainClient, address: Hex): Promise<boolean> {
  const code = await chain.request("eth_getCode", [address, "latest"]);
  return typeof code === "string" && code.length > 2;
}

/** Installs our contracts where a dev chain has none, then the root and the parents (`os` and `dev`). */
export async function deployHypermap(chain: ChainClient, parents = DEV_PARENTS): Promise<void> {
  if (!await hasCode(chain, HYPERMAP)) {
    for (const [address, code] of DEV_CHAIN_CODE) {
      if (!await hasCode(chain, address)) await chain.request("anvil_setCode", [address, code]);
    }
    await chain.request("anvil_setStorageAt", [HYPERMAP, IMPLEMENTATION_SLOT, pad(HYPERMAP_IMPLEMENTATION)]);
    await chain.request("anvil_setCode", [HYPERMAP, HYPERMAP_PROXY_CODE]);
  }
  if (!exists(await rootEntry(chain))) {
    await ignoring("AlreadyInitialized", chain.send(HYPERMAP, hypermapAbi, "initialize", [DEV_ACCOUNT]));
  }
  for (const label of parents) await mintParent(chain, label);
}

/** The root's entry; a contract at Hypermap's address that cannot say is not a Hypermap, and is left alone. */
async function rootEntry(chain: ChainClient): Promise<Entry> {
  try {
    return await getEntry(chain, ZERO_HASH);
  } catch (e) {
    throw new RegistrationError(
      `the code at Hypermap's address ${HYPERMAP} does not answer get() (${
        failure(e)
      }): left as it is; use a chain without it`,
    );
  }
}

/** Mints a top-level `label` as kit mints `os`: the root's owner, through the root's account, with the open minter. */
async function mintParent(chain: ChainClient, label: string) {
  if (exists(await getEntry(chain, namehash(label)))) return;
  const [rootTba, owner] = await getEntry(chain, ZERO_HASH);
  if (!sameAddress(owner, DEV_ACCOUNT)) {
    throw new RegistrationError(
      `${label} is not on this chain and its root is owned by ${owner}, not the dev account: mint ${label} with the root's owner`,
    );
  }
  if (!await hasCode(chain, HYPER_ACCOUNT_MINTER)) {
    throw new RegistrationError(
      `${label} is not on this chain and there is no minter at ${HYPER_ACCOUNT_MINTER} to give it: mint ${label} by hand`,
    );
  }
  const mint = encodeFunctionData({
    abi: hypermapAbi,
    functionName: "mint",
    args: [
      DEV_ACCOUNT,
      stringToHex(label),
      encodeFunctionData({ abi: minterAbi, functionName: "initialize" }),
      HYPER_ACCOUNT_MINTER,
    ],
  });
  await ignoring("NameAlreadyExists", chain.send(rootTba, writeAbi, "execute", [HYPERMAP, 0n, mint, 0]));
}

/** Another node deploying at the same moment got there first: fine. */
async function ignoring(error: string, p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (!String((e as Error).message).includes(error)) throw e;
  }
}
