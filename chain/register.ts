/**
 * Registering a node on a dev chain with the reference's calls (mint.ts): a new name is one transaction that mints
 * it through its parent's account, whose initialization writes the HNS notes as the new name's account; a name that
 * exists gets its notes rewritten, in one transaction through its own account. The dev account owns every fake
 * name, so a node restarted with a new home (a new key) just takes its name back. Every failure is a one-line
 * RegistrationError.
 */
import { RegistrationError } from "../runtime/errors.ts";
import { DEV_ACCOUNT, exists, getEntry, sameAddress } from "./deploy.ts";
import { encodeIp, encodePort, encodeRouters, namehash } from "./hypermap.ts";
import { mintUnder, type Notes, notesExecute, writeNotes } from "./mint.ts";
import { type ChainClient, failure } from "./client.ts";

export { RegistrationError };

/** What a node publishes: its key, and ip and ports (direct) or routers (indirect). */
export interface Publish {
  name: string;
  publicKey: Uint8Array;
  ips: string[];
  ports: { tcp?: number; ws?: number };
  routers: string[];
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

/** Mints `p.name` (or rewrites its notes when it exists); returns the block it landed in. */
export async function registerName(chain: ChainClient, p: Publish): Promise<{ block: bigint; minted: boolean }> {
  const dot = p.name.indexOf(".");
  if (dot <= 0) throw new RegistrationError(`${p.name} has no parent: use a name like ${p.name}.dev or ${p.name}.os`);
  const label = p.name.slice(0, dot), parentName = p.name.slice(dot + 1);
  const notes = hnsNotes(p);
  const [tba, owner] = await getEntry(chain, namehash(p.name));
  if (exists([tba, owner, "0x"])) {
    if (!sameAddress(owner, DEV_ACCOUNT)) {
      throw new RegistrationError(`${p.name} is owned by ${owner}, not by the dev account: pick another name`);
    }
    const { block } = await sending(p.name, "the update of its notes", writeNotes(chain, tba, notes));
    return { block, minted: false };
  }
  const [parentTba, parentOwner] = await getEntry(chain, namehash(parentName));
  if (!exists([parentTba, parentOwner, "0x"])) {
    throw new RegistrationError(
      `${parentName} is not on the chain, so ${p.name} cannot be minted under it (a dev chain has os and dev)`,
    );
  }
  const { block } = await sending(
    p.name,
    `the mint through ${parentName}'s account ${parentTba}`,
    mintUnder(chain, { tba: parentTba, owner: parentOwner }, DEV_ACCOUNT, DEV_ACCOUNT, label, notesExecute(notes)),
  );
  return { block, minted: true };
}

async function sending<T>(name: string, what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw new RegistrationError(`${name}: ${what} failed (${failure(e)}): pick another name, or check the chain`);
  }
}
