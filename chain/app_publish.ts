/**
 * The App Store's protocol on Hypermap as kit publish writes it: an app is the entry `<package>.<publisher>` with
 * two notes, ~metadata-hash (the text "0x…", keccak256 of the metadata.json bytes) then ~metadata-uri (the URI as
 * text), written in one transaction through the publisher's token-bound account:
 * - a new app: execute(Hypermap, 0, mint(owner, package, initialization, HyperAccount), CALL) sent to the
 *   publisher's account, the initialization delegatecalling Multicall3 to write both notes as the new entry;
 * - an app that exists: execute(Multicall3, 0, aggregate(notes), DELEGATECALL) sent to the app's own account;
 * - unpublish: the same with both notes empty.
 * Who signs must own the publisher's name (or the app's entry); the errors say so in one line.
 */
import { encodeFunctionData, type Hex, stringToBytes } from "viem";
import type { ChainClient } from "./client.ts";
import { exists, getEntry, sameAddress, writeAbi } from "./deploy.ts";
import { HYPERMAP, MULTICALL3, namehash } from "./hypermap.ts";
import { mintCall, type Notes, notesAggregate, notesExecute } from "./mint.ts";
import { addressOf, fund } from "./dev_owner.ts";

export class PublishError extends Error {
  override name = "PublishError";
}

export interface PublishPlan {
  /** The account the transaction is sent to, and its execute(to, value, data, operation) arguments. */
  to: Hex;
  execute: [Hex, bigint, Hex, number];
  /** What it does, for the log: "mint" (a new app), "update" or "unpublish". */
  kind: "mint" | "update" | "unpublish";
}

export function appNotes(uri: string, hash: string): Notes {
  return [["~metadata-hash", stringToBytes(hash)], ["~metadata-uri", stringToBytes(uri)]];
}

/** The transaction that publishes (or updates, or unpublishes) `packageName` under `publisher`, sent as `signer`. */
export async function planPublish(
  chain: ChainClient,
  o: { publisher: string; packageName: string; uri: string; hash: string; signer: Hex; unpublish?: boolean },
): Promise<PublishPlan> {
  const app = `${o.packageName}.${o.publisher}`;
  const [appTba, appOwner] = await getEntry(chain, namehash(app));
  const appExists = exists([appTba, appOwner, "0x"]);
  if (appExists && !sameAddress(appOwner, o.signer)) {
    throw new PublishError(`${app} is owned by ${appOwner}, not by the signer ${o.signer}: sign with its owner's key`);
  }
  if (o.unpublish) {
    if (!appExists) throw new PublishError(`${app} is not on chain: nothing to unpublish`);
    return { to: appTba, execute: notesCall(appNotes("", "")), kind: "unpublish" };
  }
  const notes = appNotes(o.uri, o.hash);
  if (appExists) return { to: appTba, execute: notesCall(notes), kind: "update" };
  const [pubTba, pubOwner] = await getEntry(chain, namehash(o.publisher));
  if (!exists([pubTba, pubOwner, "0x"])) {
    throw new PublishError(`the publisher ${o.publisher} is not on chain: register it first, or fix metadata.json`);
  }
  if (!sameAddress(pubOwner, o.signer)) {
    throw new PublishError(
      `the signer ${o.signer} is not the owner of the publisher name ${o.publisher} (${pubOwner}): sign with its key`,
    );
  }
  return {
    to: pubTba,
    execute: [HYPERMAP, 0n, mintCall(o.signer, o.packageName, notesExecute(notes)), 0],
    kind: "mint",
  };
}

/** execute(Multicall3, 0, aggregate(notes), DELEGATECALL): the notes written as the account's entry. */
const notesCall = (notes: Notes): [Hex, bigint, Hex, number] => [MULTICALL3, 0n, notesAggregate(notes), 1];

/** The calldata of a plan's execute call. */
export const planData = (p: PublishPlan): Hex =>
  encodeFunctionData({ abi: writeAbi, functionName: "execute", args: p.execute });

/** What a node's local endpoint is asked to publish (the node is the publisher; it signs as its dev-chain account). */
export interface NodePublishRequest {
  /** metadata.json's publisher: it must be this node. */
  publisher: string;
  package_name: string;
  metadata_uri: string;
  metadata_hash: string;
  unpublish: boolean;
}

/**
 * Publishes as a fake node on the dev chain: signed with the node's own account (dev_owner.ts), which owns its
 * name, so `hyperdeno publish -p PORT` needs no keystore there.
 */
export async function publishAsNode(
  chain: ChainClient,
  ownerKey: Hex,
  our: string,
  r: NodePublishRequest,
): Promise<{ kind: string; block: number; hash: Hex; app: string }> {
  if (r.publisher !== our) {
    throw new PublishError(
      `this node is ${our}, not the publisher ${r.publisher}: publish from that node, or with its owner's keystore`,
    );
  }
  if (!/^[a-z0-9-]{1,63}$/.test(r.package_name)) throw new PublishError("package_name is not a Hypermap label");
  if (!r.unpublish && !/^0x[0-9a-f]{64}$/.test(r.metadata_hash)) {
    throw new PublishError("metadata_hash is not 0x and 64 lowercase hex digits");
  }
  if (r.metadata_uri.length > 2048) throw new PublishError("metadata_uri is longer than 2048 characters");
  const signer = addressOf(ownerKey);
  await fund(chain, signer);
  const plan = await planPublish(chain, {
    publisher: our,
    packageName: r.package_name,
    uri: r.metadata_uri,
    hash: r.metadata_hash,
    signer,
    unpublish: r.unpublish,
  });
  const sent = await chain.send(plan.to, writeAbi, "execute", plan.execute, ownerKey);
  return { kind: plan.kind, block: Number(sent.block), hash: sent.hash, app: `${r.package_name}.${our}` };
}
