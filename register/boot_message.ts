/**
 * The boot request's signature, as the reference's register UI makes it and its node checks it (register.rs
 * handle_boot): the wallet signs EIP-712 typed data `Boot {username, password_hash, timestamp, direct, reset,
 * chain_id}` in the domain {name "Hypermap", version "1", chainId, verifyingContract Hypermap}, and the node boots as
 * `username` only when the signer is the name's owner on chain. So whoever reaches the pages cannot make the node
 * someone else's name: only the name's owner can, and only for a moment (the timestamp), on this chain.
 *
 * Where we differ: the reference fixes the chain id to Base's and compares the timestamp (milliseconds) with seconds,
 * so its check always passes; here the chain is the node's, and a signature older than FRESH_MS is refused.
 */
import { type Hex, recoverTypedDataAddress } from "viem";
import { HYPERMAP } from "../chain/hypermap.ts";

export const FRESH_MS = 10 * 60_000;

export interface BootMessage {
  username: string;
  password_hash: Hex;
  timestamp: number;
  direct: boolean;
  reset: boolean;
  chain_id: number;
}

/** The typed data a wallet signs (eth_signTypedData_v4's JSON: numbers as decimal strings). */
export function bootTypedData(m: BootMessage) {
  return {
    domain: { name: "Hypermap", version: "1", chainId: m.chain_id, verifyingContract: HYPERMAP },
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ],
      Boot: [
        { name: "username", type: "string" },
        { name: "password_hash", type: "bytes32" },
        { name: "timestamp", type: "uint256" },
        { name: "direct", type: "bool" },
        { name: "reset", type: "bool" },
        { name: "chain_id", type: "uint256" },
      ],
    },
    primaryType: "Boot" as const,
    message: { ...m, timestamp: String(m.timestamp), chain_id: String(m.chain_id) },
  };
}

/** Who signed `m` (null when the signature is malformed). */
export async function bootSigner(m: BootMessage, signature: Hex): Promise<Hex | null> {
  const t = bootTypedData(m);
  try {
    return await recoverTypedDataAddress({
      domain: t.domain,
      types: { Boot: t.types.Boot },
      primaryType: "Boot",
      message: { ...m, timestamp: BigInt(m.timestamp), chain_id: BigInt(m.chain_id) },
      signature,
    });
  } catch {
    return null;
  }
}

/** Why a boot message's timestamp is not acceptable now, or null. */
export function staleness(timestamp: number, now = Date.now()): string | null {
  if (!Number.isSafeInteger(timestamp)) return "its timestamp is not a time in milliseconds";
  if (timestamp > now + 60_000) return "its timestamp is in the future: check this computer's clock";
  if (timestamp < now - FRESH_MS) return "it was signed more than 10 minutes ago: sign again";
  return null;
}
