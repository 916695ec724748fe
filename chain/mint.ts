/**
 * The reference's calls to register a name, as Hyperdrive's fake nodes (fakenet.rs mint_local) and its register UI
 * make them, so a node registers the same way on a chain set up by kit with the reference's contracts and on ours:
 * - the notes: Multicall3 aggregate of Hypermap note() calls, delegatecalled by the name's account
 *   (execute(Multicall3, 0, aggregate, 1)), so each note comes from that account and is filed under the name;
 * - a new name: mint(owner, label, initialization = that execute call, HyperAccount) sent to the parent's account,
 *   whose implementation is a minter (`.os` on kit's chain and ours); where the parent's account mints only for its
 *   owner, the owner sends execute(Hypermap, 0, mint(...), 0) to it instead (how kit mints `os` under the root);
 * - a name that exists: the execute call, sent to the name's own account by its owner.
 */
import { encodeFunctionData, type Hex, stringToHex, toHex as hexOf } from "viem";
import { type ChainClient, revertName, type Sender } from "./client.ts";
import { sameAddress, writeAbi } from "./deploy.ts";
import { HYPER_ACCOUNT, HYPERMAP, hypermapAbi, MULTICALL3, multicallAbi } from "./hypermap.ts";

export type Notes = [label: string, data: Uint8Array][];

/** Multicall3 aggregate(note calls): delegatecalled by an account, it writes the notes as that account. */
export function notesAggregate(notes: Notes): Hex {
  const calls = notes.map(([label, data]) => ({
    target: HYPERMAP,
    callData: encodeFunctionData({ abi: hypermapAbi, functionName: "note", args: [stringToHex(label), hexOf(data)] }),
  }));
  return encodeFunctionData({ abi: multicallAbi, functionName: "aggregate", args: [calls] });
}

/** execute(Multicall3, 0, aggregate(notes), DELEGATECALL): a mint's initialization, or a name's update. */
export function notesExecute(notes: Notes): Hex {
  return encodeFunctionData({
    abi: writeAbi,
    functionName: "execute",
    args: [MULTICALL3, 0n, notesAggregate(notes), 1],
  });
}

/** Hypermap's (and a minter's) mint(to, label, initialization, implementation). */
export function mintCall(to: Hex, label: string, initialization: Hex, implementation: Hex = HYPER_ACCOUNT): Hex {
  return encodeFunctionData({
    abi: hypermapAbi,
    functionName: "mint",
    args: [to, stringToHex(label), initialization, implementation],
  });
}

export interface Sent {
  block: bigint;
  hash: Hex;
}

/**
 * Mints `label` under the entry whose account is `parentTba`, for `owner`, with `initialization`; `signer` is the
 * account `chain` sends as. The minter's way first; the parent owner's way when the minter refuses and the signer
 * owns the parent.
 */
export async function mintUnder(
  chain: ChainClient,
  parent: { tba: Hex; owner: Hex },
  signer: Hex,
  owner: Hex,
  label: string,
  initialization: Hex,
): Promise<Sent> {
  const args = [owner, stringToHex(label), initialization, HYPER_ACCOUNT];
  try {
    return await chain.send(parent.tba, writeAbi, "mint", args);
  } catch (e) {
    if (!sameAddress(parent.owner, signer) || revertName(e) === "NameAlreadyExists") throw e;
    return await chain.send(parent.tba, writeAbi, "execute", [HYPERMAP, 0n, mintCall(owner, label, initialization), 0]);
  }
}

/** Rewrites a name's notes through its own account, sent as `from` (dev account #0 unless told): it must own the name. */
export function writeNotes(chain: ChainClient, tba: Hex, notes: Notes, from?: Sender): Promise<Sent> {
  return chain.send(tba, writeAbi, "execute", [MULTICALL3, 0n, notesAggregate(notes), 1], from);
}
