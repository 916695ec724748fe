/**
 * Registering a node on a dev chain as Hyperdrive's fake nodes do: one transaction from dev account #0 that mints
 * the name through its parent's account, whose initialization writes the HNS notes as the new name's account (a
 * Multicall3 aggregate of note() calls, delegatecalled). A name that exists already gets its notes rewritten, in one
 * transaction through its own account: the dev account owns every fake name, so a node restarted with a new home
 * (a new key) just takes its name back.
 */
import { encodeFunctionData, type Hex, stringToHex, toHex as hexOf } from "viem";
import type { ChainClient } from "./client.ts";
import { Refusal } from "../runtime/errors.ts";
import { DEV_ACCOUNT, exists, getEntry, NO_IMPLEMENTATION, writeAbi } from "./deploy.ts";
import {
  encodeIp,
  encodePort,
  encodeRouters,
  HYPERMAP,
  hypermapAbi,
  MULTICALL3,
  multicallAbi,
  namehash,
} from "./hypermap.ts";

/** What a node publishes: its key, and ip and ports (direct) or routers (indirect). */
export interface Publish {
  name: string;
  publicKey: Uint8Array;
  ips: string[];
  ports: { tcp?: number; ws?: number };
  routers: string[];
}

export class RegistrationError extends Refusal {
  override name = "RegistrationError";
}

/** The notes a node writes, in the order the real node writes them. */
export function hnsNotes(p: Publish): [string, Uint8Array][] {
  if (p.publicKey.length !== 32) throw new RegistrationError("a networking key is 32 bytes");
  if (p.routers.length) return [["~net-key", p.publicKey], ["~routers", encodeRouters(p.routers)]];
  if (!p.ips.length) throw new RegistrationError(`${p.name} publishes neither an ip nor routers`);
  return [
    ["~net-key", p.publicKey],
    ["~ip", encodeIp(p.ips[0])],
    // 0 says "none", as the real registration writes ~tcp-port 0 for a node without TCP.
    ["~tcp-port", encodePort(p.ports.tcp ?? 0)],
    ["~ws-port", encodePort(p.ports.ws ?? 0)],
  ];
}

/** Multicall3 aggregate(note calls): delegatecalled by an account, it writes the notes as that account. */
function noteCalls(notes: [string, Uint8Array][]): Hex {
  const calls = notes.map(([label, data]) => ({
    target: HYPERMAP,
    callData: encodeFunctionData({ abi: hypermapAbi, functionName: "note", args: [stringToHex(label), hexOf(data)] }),
  }));
  return encodeFunctionData({ abi: multicallAbi, functionName: "aggregate", args: [calls] });
}

/** Mints `p.name` (or rewrites its notes when it exists); returns the block it landed in. */
export async function registerName(chain: ChainClient, p: Publish): Promise<{ block: bigint; minted: boolean }> {
  const dot = p.name.indexOf(".");
  if (dot <= 0) throw new RegistrationError(`${p.name} has no parent: use a name like ${p.name}.dev or ${p.name}.os`);
  const label = p.name.slice(0, dot), parentName = p.name.slice(dot + 1);
  const aggregate = noteCalls(hnsNotes(p));
  const [tba, owner] = await getEntry(chain, namehash(p.name));
  if (exists([tba, owner, "0x"])) {
    if (owner.toLowerCase() !== DEV_ACCOUNT.toLowerCase()) {
      throw new RegistrationError(`${p.name} is owned by ${owner}, not by the dev account: pick another name`);
    }
    const { block } = await chain.send(tba, writeAbi, "execute", [MULTICALL3, 0n, aggregate, 1]);
    return { block, minted: false };
  }
  const parent = await getEntry(chain, namehash(parentName));
  if (!exists(parent)) {
    throw new RegistrationError(
      `${parentName} is not on the chain, so ${p.name} cannot be minted under it (a dev chain has os and dev)`,
    );
  }
  if (parent[1].toLowerCase() !== DEV_ACCOUNT.toLowerCase()) {
    throw new RegistrationError(`${parentName} is owned by ${parent[1]}, not by the dev account`);
  }
  // The new account runs this as its initialization: execute(Multicall3, 0, aggregate, DELEGATECALL).
  const init = encodeFunctionData({ abi: writeAbi, functionName: "execute", args: [MULTICALL3, 0n, aggregate, 1] });
  const mint = encodeFunctionData({
    abi: hypermapAbi,
    functionName: "mint",
    args: [DEV_ACCOUNT, stringToHex(label), init, NO_IMPLEMENTATION],
  });
  const { block } = await chain.send(parent[0], writeAbi, "execute", [HYPERMAP, 0n, mint, 0]);
  return { block, minted: true };
}
