/**
 * Registering a fake node on a dev chain with the reference's calls (mint.ts), to an account of the node's own
 * (dev_owner.ts). A new name is one transaction from dev account #0 (the owner of `dev`) that mints it through its
 * parent's account, to the node's account, with HyperAccount as its implementation; its initialization writes the
 * HNS notes as the new name's account, so a name never exists without its notes. From then on only the node's
 * account can rewrite them (through the name's own account, signed here with the node's key).
 *
 * A name held by another account is the everyday case of a node booted again with a new home (a new key): if its
 * holder is not running, the name moves to the new node's account (Hypermap's ERC-721 transferFrom, sent as the old
 * holder through the dev chain's impersonation, on chain 31337 only) and the new node writes its notes; if its holder
 * is running, the boot is refused (NameHeld). Every other failure is a one-line RegistrationError.
 */
import type { Hex } from "viem";
import { NameHeld, RegistrationError } from "../runtime/errors.ts";
import { fromHex } from "../runtime/bytes.ts";
import { DEV_ACCOUNT, exists, getEntry, sameAddress } from "./deploy.ts";
import {
  decodeIp,
  decodePort,
  DEV_ACCOUNT_KEY,
  DEV_CHAIN_ID,
  encodeIp,
  encodePort,
  encodeRouters,
  HYPERMAP,
  hypermapAbi,
  namehash,
} from "./hypermap.ts";
import { mintUnder, type Notes, notesExecute, writeNotes } from "./mint.ts";
import { type ChainClient, failure, revertName } from "./client.ts";
import { addressOf, fund } from "./dev_owner.ts";

export { RegistrationError };

/** What a node publishes: its key, and ip and ports (direct) or routers (indirect). */
export interface Publish {
  name: string;
  publicKey: Uint8Array;
  ips: string[];
  ports: { tcp?: number; ws?: number };
  routers: string[];
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
export function hnsNotes(p: Publish): Notes {
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
  const notes = hnsNotes(p);
  const ours = addressOf(owner);
  for (let attempt = 0;; attempt++) {
    const [tba, holder] = await getEntry(chain, namehash(p.name));
    if (!exists([tba, holder, "0x"])) {
      try {
        return { block: await mint(chain, p.name, ours, notes), minted: true };
      } catch (e) {
        // Another node minted it a moment ago: look again (someone holds it now).
        if (attempt === 0 && e instanceof RegistrationError && e.cause === "NameAlreadyExists") continue;
        throw e;
      }
    }
    let tookOverFrom: Hex | undefined;
    if (!sameAddress(holder, ours)) {
      const running = await opts.holderRunning?.(await readHeld(chain, p.name, holder));
      if (running) {
        throw new NameHeld(
          `${p.name} is held by a running node (${running}): stop it, boot it again with --persist on its home, or pick another name with -f`,
        );
      }
      await sending(p.name, `the takeover from ${holder}`, transferAsHolder(chain, p.name, holder, ours));
      tookOverFrom = holder;
    }
    await fund(chain, ours);
    const { block } = await sending(p.name, "the update of its notes", writeNotes(chain, tba, notes, owner));
    return { block, minted: false, tookOverFrom };
  }
}

/**
 * Mints `name` to `to` through its parent's account, as dev account #0 (the parent's minter takes it from anyone;
 * where it does not, #0 owns the parent), the notes written by the mint's initialization.
 */
async function mint(chain: ChainClient, name: string, to: Hex, notes: Notes): Promise<bigint> {
  const dot = name.indexOf(".");
  const label = name.slice(0, dot), parentName = name.slice(dot + 1);
  const [parentTba, parentOwner] = await getEntry(chain, namehash(parentName));
  if (!exists([parentTba, parentOwner, "0x"])) {
    throw new RegistrationError(
      `${parentName} is not on the chain, so ${name} cannot be minted under it (a dev chain has os and dev)`,
    );
  }
  const parent = { tba: parentTba, owner: parentOwner };
  const minting = mintUnder(chain, parent, DEV_ACCOUNT, to, label, notesExecute(notes));
  const { block } = await sending(name, `the mint through ${parentName}'s account ${parentTba}`, minting);
  return block;
}

/**
 * Moves `name` from `holder` to `to` with Hypermap's ERC-721 transferFrom (token id = the namehash), sent as the
 * holder: the dev chain signs for it while it is impersonated (account #0 it holds unlocked). A dev-chain cheat, so
 * never tried on another chain.
 */
async function transferAsHolder(chain: ChainClient, name: string, holder: Hex, to: Hex) {
  const id = await chain.chainId();
  if (id !== DEV_CHAIN_ID) {
    throw new RegistrationError(`${name} is held by ${holder} on chain ${id}, not a dev chain: pick another name`);
  }
  const args = [holder, to, BigInt(namehash(name))];
  if (sameAddress(holder, DEV_ACCOUNT)) {
    return void await chain.send(HYPERMAP, hypermapAbi, "transferFrom", args, DEV_ACCOUNT_KEY);
  }
  await chain.request("anvil_impersonateAccount", [holder]);
  try {
    await fund(chain, holder);
    await chain.send(HYPERMAP, hypermapAbi, "transferFrom", args, holder);
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

/** A failed transaction as one RegistrationError line; its cause is the contract's error name when known. */
async function sending<T>(name: string, what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof RegistrationError) throw e;
    throw new RegistrationError(`${name}: ${what} failed (${failure(e)}): pick another name, or check the chain`, {
      cause: revertName(e),
    });
  }
}
