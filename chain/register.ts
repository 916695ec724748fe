/**
 * Registering a fake node on a dev chain. The name is minted through its parent's account by the parent's owner
 * (dev account #0) to the node's own account (dev_owner.ts), in one transaction whose initialization writes the HNS
 * notes as the new name's account (a Multicall3 aggregate of note() calls, delegatecalled), so a name never exists
 * without its notes. From then on only the node's account can rewrite them, signed here with its key.
 *
 * A name held by another account is the everyday case of a node booted again with a new home (a new key): if its
 * holder is not running, the name moves to the new node's account (transferFrom, sent as the old holder through the
 * dev chain's impersonation) and the new node writes its notes; if its holder is running, the boot is refused.
 */
import { encodeFunctionData, type Hex, stringToHex, toHex as hexOf } from "viem";
import type { ChainClient, Sender } from "./client.ts";
import { NameHeld, Refusal } from "../runtime/errors.ts";
import { DEV_ACCOUNT, exists, getEntry, NO_IMPLEMENTATION, writeAbi } from "./deploy.ts";
import {
  decodeIp,
  decodePort,
  encodeIp,
  encodePort,
  encodeRouters,
  HYPERMAP,
  hypermapAbi,
  MULTICALL3,
  multicallAbi,
  namehash,
} from "./hypermap.ts";
import { addressOf, fund } from "./dev_owner.ts";
import { DEV_ACCOUNT_KEY } from "./hypermap.ts";
import { fromHex } from "../runtime/bytes.ts";

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

/** A name on chain that another account holds, as its notes describe the node that holds it. */
export interface HeldName {
  name: string;
  owner: Hex;
  /** Its ~net-key, or null when it has none. */
  publicKey: Uint8Array | null;
  ip: string | null;
  ports: { tcp?: number; ws?: number };
  indirect: boolean;
}

export interface RegisterOptions {
  /**
   * Whether the node holding a name is running: a description of it (its key and port) when it proves so, null
   * otherwise. Without it, a held name is always taken over (tests that play several owners).
   */
  holderRunning?: (held: HeldName) => Promise<string | null>;
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
export function noteCalls(notes: [string, Uint8Array][]): Hex {
  const calls = notes.map(([label, data]) => ({
    target: HYPERMAP,
    callData: encodeFunctionData({ abi: hypermapAbi, functionName: "note", args: [stringToHex(label), hexOf(data)] }),
  }));
  return encodeFunctionData({ abi: multicallAbi, functionName: "aggregate", args: [calls] });
}

const same = (a: Hex, b: Hex) => a.toLowerCase() === b.toLowerCase();

/**
 * Mints `p.name` to the account of `owner` (a private key), or rewrites its notes when that account holds it, or
 * takes it over from a holder that is not running; returns the block the notes landed in.
 */
export async function registerName(
  chain: ChainClient,
  p: Publish,
  owner: Hex,
  opts: RegisterOptions = {},
): Promise<{ block: bigint; minted: boolean; tookOverFrom?: Hex }> {
  const dot = p.name.indexOf(".");
  if (dot <= 0) throw new RegistrationError(`${p.name} has no parent: use a name like ${p.name}.dev or ${p.name}.os`);
  const aggregate = noteCalls(hnsNotes(p));
  const ours = addressOf(owner);
  for (let attempt = 0;; attempt++) {
    const [tba, holder] = await getEntry(chain, namehash(p.name));
    if (!exists([tba, holder, "0x"])) {
      try {
        return { block: await mint(chain, p.name, ours, aggregate), minted: true };
      } catch (e) {
        // Another node minted it a moment ago: look again (it holds it now).
        if (attempt === 0 && String((e as Error).message).includes("NameAlreadyExists")) continue;
        throw e;
      }
    }
    let tookOverFrom: Hex | undefined;
    if (!same(holder, ours)) {
      const held = await readHeld(chain, p.name, holder);
      const running = await opts.holderRunning?.(held);
      if (running) {
        throw new NameHeld(
          `${p.name} is held by a running node (${running}): stop it, boot it again with --persist on its home, or pick another name with -f`,
        );
      }
      await transferAsHolder(chain, p.name, holder, ours);
      tookOverFrom = holder;
    }
    await fund(chain, ours);
    const { block } = await chain.send(tba, writeAbi, "execute", [MULTICALL3, 0n, aggregate, 1], owner);
    return { block, minted: false, tookOverFrom };
  }
}

/** Mints `name` to `to` through its parent's account, as the parent's owner (dev account #0), notes included. */
async function mint(chain: ChainClient, name: string, to: Hex, aggregate: Hex): Promise<bigint> {
  const dot = name.indexOf(".");
  const label = name.slice(0, dot), parentName = name.slice(dot + 1);
  const parent = await getEntry(chain, namehash(parentName));
  if (!exists(parent)) {
    throw new RegistrationError(
      `${parentName} is not on the chain, so ${name} cannot be minted under it (a dev chain has os and dev)`,
    );
  }
  if (!same(parent[1], DEV_ACCOUNT)) {
    throw new RegistrationError(`${parentName} is owned by ${parent[1]}, not by the dev account`);
  }
  // The new account runs this as its initialization: execute(Multicall3, 0, aggregate, DELEGATECALL).
  const init = encodeFunctionData({ abi: writeAbi, functionName: "execute", args: [MULTICALL3, 0n, aggregate, 1] });
  const call = encodeFunctionData({
    abi: hypermapAbi,
    functionName: "mint",
    args: [to, stringToHex(label), init, NO_IMPLEMENTATION],
  });
  const { block } = await chain.send(parent[0], writeAbi, "execute", [HYPERMAP, 0n, call, 0]);
  return block;
}

/**
 * Moves `name` from `holder` to `to` with Hypermap's transferFrom, sent as the holder: the dev chain signs for it
 * while it is impersonated (account #0 it holds unlocked). A dev-chain cheat: registration happens on dev chains only.
 */
async function transferAsHolder(chain: ChainClient, name: string, holder: Hex, to: Hex) {
  const args = [holder, to, BigInt(namehash(name))];
  if (same(holder, DEV_ACCOUNT)) {
    return void await chain.send(HYPERMAP, hypermapAbi, "transferFrom", args, DEV_ACCOUNT_KEY);
  }
  const sender: Sender = holder;
  await chain.request("anvil_impersonateAccount", [holder]);
  try {
    await fund(chain, holder);
    await chain.send(HYPERMAP, hypermapAbi, "transferFrom", args, sender);
  } finally {
    await chain.request("anvil_stopImpersonatingAccount", [holder]).catch(() => {});
  }
}

/** The notes of a held name that say where its node listens. */
export async function readHeld(chain: ChainClient, name: string, owner: Hex): Promise<HeldName> {
  const note = async (label: string) => {
    const [, , data] = await getEntry(chain, namehash(`${label}.${name}`));
    return data === "0x" ? null : fromHex(data.slice(2));
  };
  const [key, ip, tcp, ws, routers] = await Promise.all(
    ["~net-key", "~ip", "~tcp-port", "~ws-port", "~routers"].map(note),
  );
  const port = (b: Uint8Array | null) => {
    try {
      return b ? decodePort(b) || undefined : undefined;
    } catch {
      return undefined;
    }
  };
  let ipText: string | null = null;
  try {
    ipText = ip ? decodeIp(ip) : null;
  } catch { /* a malformed note: no address */ }
  return {
    name,
    owner,
    publicKey: key?.length === 32 ? key : null,
    ip: ipText,
    ports: { tcp: port(tcp), ws: port(ws) },
    indirect: !!routers?.length,
  };
}
