/**
 * A fake node's own account on the dev chain. Its name is minted to this account, and only this account can write
 * the name's notes through its token-bound account, so nobody else who reaches the chain's RPC (where account #0 is
 * unlocked for all) can rewrite the node's ~net-key. The key is derived from the node's networking secret key
 * (never the public one, which is on chain for all to read), so a `--persist` home keeps its account and reboots
 * without a takeover; the dev chain pays its gas (anvil_setBalance: a cheat of the dev chain, never sent elsewhere).
 */
import { concat, type Hex, keccak256, stringToBytes } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import type { ChainClient } from "./client.ts";

/** Kept apart from every other use of the networking key by this prefix. */
const DOMAIN = "hyperdeno dev-chain owner";

/** The secp256k1 private key of the node's dev-chain account. */
export function devOwnerKey(networkingSecretKey: Uint8Array): Hex {
  return keccak256(concat([stringToBytes(DOMAIN), networkingSecretKey]));
}

export const addressOf = (key: Hex): Hex => privateKeyToAddress(key);

/** Enough ether for many note writes, however full the dev chain's blocks. */
const FUNDS = 10n ** 19n;

/** Gives `address` gas money on the dev chain unless it has plenty. */
export async function fund(chain: ChainClient, address: Hex): Promise<void> {
  const balance = await chain.request("eth_getBalance", [address, "latest"]);
  if (typeof balance === "string" && BigInt(balance) >= FUNDS / 10n) return;
  await chain.request("anvil_setBalance", [address, `0x${FUNDS.toString(16)}`]);
}
