/**
 * ERC-6551 account addresses, as the standard derives them: the registry creates an account with CREATE2 (salt =
 * the given salt) from init code that is the standard's ERC-1167 proxy to `implementation` followed by
 * abi.encode(salt, chainId, tokenContract, tokenId). In Hypermap the implementation is the entry's account proxy,
 * and salt and token id are both the entry's namehash. The reference keeps each entry's proxy at CREATE2(Hypermap,
 * namehash, its proxy's init-code hash); our Hypermap uses that address where the chain has code there.
 */
import { concat, encodeAbiParameters, getContractAddress, type Hex } from "viem";
import { DEV_CHAIN_ID, ERC6551_REGISTRY, HYPERMAP } from "./hypermap.ts";

/** keccak256 of the reference's account proxy creation code with Hypermap's address appended (a hash, not code). */
export const REFERENCE_ACCOUNT_PROXY_INIT_HASH =
  "0x3174615535ef55059e87328c45a3c061225f8a1399bf2abcab8fd61a877de7b6" as const;

/** The ERC-6551 account of (implementation, salt, chainId, tokenContract, tokenId), created by `registry`. */
export function erc6551Account(
  implementation: Hex,
  salt: Hex,
  chainId: number,
  tokenContract: Hex,
  tokenId: bigint,
  registry: Hex = ERC6551_REGISTRY,
): Hex {
  const bytecode = concat([
    "0x3d60ad80600a3d3981f3363d3d373d3d3d363d73",
    implementation,
    "0x5af43d82803e903d91602b57fd5bf3",
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "uint256" }],
      [salt, BigInt(chainId), tokenContract, tokenId],
    ),
  ]);
  return getContractAddress({ opcode: "CREATE2", from: registry, salt, bytecode });
}

/** Where the reference deployment keeps the account proxy of `entry` (a namehash). */
export function referenceAccountProxy(entry: Hex): Hex {
  return getContractAddress({
    opcode: "CREATE2",
    from: HYPERMAP,
    salt: entry,
    bytecodeHash: REFERENCE_ACCOUNT_PROXY_INIT_HASH,
  });
}

/** The reference deployment's account (TBA) of `entry` on `chainId`. */
export function referenceTba(entry: Hex, chainId = DEV_CHAIN_ID): Hex {
  return erc6551Account(referenceAccountProxy(entry), entry, chainId, HYPERMAP, BigInt(entry));
}
