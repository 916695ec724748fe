/**
 * A node joins the network through a chain: the local dev chain by default (anvil started here, with Hypermap on
 * it, when nothing answers on its port, as kit does), or any EVM JSON-RPC endpoint (`--rpc`). On a dev chain the
 * node registers its name to an account of its own (dev_owner.ts), taking it over from a holder that no longer runs
 * and refusing to boot while one runs; then the HNS indexer hands net every identity and keeps following.
 */
import type { NodeKeys } from "../runtime/keys.ts";
import type { NetModule } from "../modules/net/mod.ts";
import { ChainUnavailable, PortInUse, Refusal } from "../runtime/errors.ts";
import { toHex } from "../runtime/bytes.ts";
import { Anvil, chainAnswers, DEFAULT_CHAIN_PORT, localRpc } from "./anvil.ts";
import { ChainClient, failure } from "./client.ts";
import { deployHypermap, getEntry } from "./deploy.ts";
import { DEV_CHAIN_ID, namehash } from "./hypermap.ts";
import { HnsIndexer } from "./indexer.ts";
import { type HeldName, registerName } from "./register.ts";
import { devOwnerKey } from "./dev_owner.ts";
import { provesName } from "../modules/net/probe.ts";

export interface ChainOptions {
  /** The local dev chain's port (default 8545). */
  chainPort?: number;
  /** Any EVM JSON-RPC endpoint (http, https, ws, wss) instead of the local dev chain. */
  rpc?: string;
  /** How often the indexer asks for new blocks (ms; default 500). */
  pollMs?: number;
  /**
   * The node's name was registered by its owner's wallet (the registration pages): even on a dev chain it registers
   * nothing with the dev account, and checks its key on chain as on any other chain.
   */
  registered?: boolean;
}

/** What a node holds of its chain; stop() lets go of it (and of the anvil it started). */
export class ChainLink {
  indexer!: HnsIndexer;
  constructor(readonly chain: ChainClient, readonly chainId: number, public anvil: Anvil | null) {}

  async stop() {
    await this.indexer.stop();
    await this.chain.close();
    await this.anvil?.stop();
  }
}

/** Starts anvil on `port` unless a chain answers there (another node or `deno task chain` may win the race). */
export async function ensureLocalChain(port: number): Promise<Anvil | null> {
  if (await chainAnswers(localRpc(port))) return null;
  try {
    return await Anvil.start(port);
  } catch (e) {
    if (e instanceof PortInUse && await chainAnswers(localRpc(port), 3000)) return null;
    throw e;
  }
}

/** A failed setup or registration at boot is one line (a Refusal, which the CLI prints as is), never a trace. */
async function oneLine<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof Refusal) throw e;
    throw new ChainUnavailable(`${what} failed (${failure(e)}): check the chain, or start a fresh one`);
  }
}

/**
 * A running holder proves it in a handshake at the address its notes give. An indirect holder (routers only) cannot
 * be asked without an identity of our own, so it counts as gone.
 */
export async function holderRunning(held: HeldName): Promise<string | null> {
  if (!held.publicKey || !held.ip) return null;
  const where = await provesName(held.name, held.publicKey, held.ip, held.ports);
  return where && `key 0x${toHex(held.publicKey).slice(0, 16)}…, ${where}`;
}

export async function joinChain(
  net: NetModule,
  keys: NodeKeys,
  opts: ChainOptions,
  say: (verbosity: number, text: string) => void,
): Promise<ChainLink> {
  const port = opts.chainPort ?? DEFAULT_CHAIN_PORT;
  const anvil = opts.rpc ? null : await ensureLocalChain(port);
  if (anvil) say(0, `no chain answered on port ${port}: started anvil there (it stops with this node)`);
  else if (!opts.rpc) say(0, `using the dev chain already on port ${port}`);
  const url = opts.rpc ?? localRpc(port);
  let chain: ChainClient | null = null;
  try {
    chain = new ChainClient(url);
    let id: number;
    try {
      id = await chain.chainId();
    } catch (e) {
      throw new ChainUnavailable(
        `the chain at ${url} does not answer (${
          (e as Error).message.split("\n")[0]
        }): start one with deno task chain, or give another --rpc`,
      );
    }
    const dev = id === DEV_CHAIN_ID;
    if (dev) await oneLine(`setting up Hypermap on ${url}`, deployHypermap(chain));
    const identity = await net.listen();
    const owner = devOwnerKey(keys.secretKey);
    const register = async () => {
      const { block, minted, tookOverFrom } = await registerName(
        chain!,
        { ...identity, publicKey: keys.publicKey },
        owner,
        { holderRunning },
      );
      if (tookOverFrom) {
        say(1, `hns: ${identity.name} was held by ${tookOverFrom}, whose node is not running: it is this node's now`);
      }
      say(1, `hns: ${minted ? "minted" : "updated the notes of"} ${identity.name} in block ${block} of ${url}`);
    };
    const selfRegister = dev && !opts.registered;
    if (selfRegister) await oneLine(`registering ${identity.name} on ${url}`, register());
    const link = new ChainLink(chain, id, anvil);
    const indexer = link.indexer = new HnsIndexer({
      chain,
      stateFile: `${net.k.home}/hns-indexer.json`,
      onUpdate: (u) => net.hnsUpdate(u),
      onForget: (n) => net.hnsForget(n),
      log: say,
      pollMs: opts.pollMs,
      onNewChain: async () => {
        if (!selfRegister) return;
        await deployHypermap(chain!);
        await register();
        say(0, `hns: registered ${identity.name} again on the new chain at ${url}`);
      },
      // The node that ran the local chain stopped: the first node to notice starts one in its place.
      onUnreachable: async () => {
        if (opts.rpc || link.anvil) return;
        link.anvil = await ensureLocalChain(port);
        if (link.anvil) {
          say(0, `hns: the chain on port ${port} went away: started anvil there (it stops with this node)`);
        }
      },
    });
    net.refreshIdentities = () => indexer.round();
    // On a dev chain the node knows everyone when boot returns; a public chain's history is read meanwhile.
    await indexer.start({ wait: dev });
    if (!selfRegister) {
      // As the real node checks at boot: the key on chain must be this node's.
      const [, , onChain] = await getEntry(chain, namehash(`~net-key.${identity.name}`));
      if (onChain.slice(2).toLowerCase() !== toHex(keys.publicKey)) {
        say(
          0,
          `hns: chain ${id} does not hold this node's key for ${identity.name} (it has ${
            onChain === "0x" ? "none" : onChain.slice(0, 18) + "…"
          }): its owner must write ~net-key ${toHex(keys.publicKey)} for peers to reach this node`,
        );
      }
    }
    net.startDuties();
    return link;
  } catch (e) {
    await chain?.close();
    await anvil?.stop();
    throw e;
  }
}
