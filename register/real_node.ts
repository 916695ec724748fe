/**
 * A real node: one whose name its owner registered with a wallet. Booted on a home that holds an identity and given
 * its password, it boots at once; otherwise the port serves the registration pages (server.ts) until its owner has
 * registered a name, logged in, imported a keyfile or reset a name's notes there, and then the node boots as that
 * name on the same port, the browser already logged in. Any chain by RPC URL: the pages and the node read the chain
 * they are given, and its id decides nothing but the first block to index (chain/networks.ts).
 */
import { Node, type NodeOptions } from "../runtime/boot.ts";
import { ChainClient } from "../chain/client.ts";
import { chainName } from "../chain/networks.ts";
import { HnsIndexer } from "../chain/indexer.ts";
import type { HnsUpdate } from "../runtime/api/net.ts";
import { type NodeKeys, unlockKeys } from "../runtime/keys.ts";
import { ChainUnavailable, Refusal } from "../runtime/errors.ts";
import { toHex } from "../runtime/bytes.ts";
import { homeHolds, readIdentity, type RealIdentity } from "./identity.ts";
import { SetupServer } from "./server.ts";
import { notesOnChain } from "./wallet_calls.ts";

export interface RealNodeOptions
  extends
    Pick<NodeOptions, "home" | "port" | "verbosity" | "stdin" | "label" | "write" | "sandbox" | "hosts" | "onExit"> {
  rpc: string;
  /** The node's password: with an identity in the home, the node boots without the pages. */
  password?: string;
  /** Ports for a direct node's links (0: free ports, chosen now and kept). */
  tcpPort?: number;
  wsPort?: number;
  /** How often the indexers ask for new blocks (ms). */
  pollMs?: number;
  /** The setup server listens (tests wait on it). */
  onSetup?: (s: SetupServer) => void;
}

/** Boots the node, through the registration pages when it has no identity (or no password) yet. */
export async function bootRealNode(o: RealNodeOptions): Promise<Node> {
  const say = (text: string) => {
    const line = o.label ? `${o.label} ${text}` : text;
    (o.write ?? console.log)(line);
  };
  const chain = new ChainClient(o.rpc);
  let chainId: number;
  try {
    chainId = await chain.chainId();
  } catch (e) {
    await chain.close();
    throw new ChainUnavailable(
      `the chain at ${o.rpc} does not answer (${(e as Error).message.split("\n")[0]}): give --rpc the URL of a ` +
        `Base RPC, or of a local chain (hyperdeno chain, then --rpc http://localhost:8545)`,
    );
  }
  try {
    const home = o.home.replace(/\/+$/, "");
    if (homeHolds(home) === "other") {
      throw new Refusal(
        `${home} holds a fake node: boot it with boot-fake-node, or give boot-real-node another --home`,
      );
    }
    const identity = readIdentity(home);
    if (identity && identity.chain_id !== chainId) {
      throw new Refusal(
        `${identity.name} in ${home} is registered on ${chainName(identity.chain_id)}, but ${o.rpc} is ${
          chainName(chainId)
        }: give --rpc a URL of its chain`,
      );
    }
    let booting: { identity: RealIdentity; password: string; port: number };
    if (identity && o.password !== undefined) {
      const keys = await unlockKeys(
        JSON.parse(await Deno.readTextFile(`${home}/keys.json`)),
        o.password,
        identity.name,
      );
      await checkKey(chain, identity.name, keys);
      booting = { identity, password: o.password, port: o.port };
    } else {
      booting = await setup(o, home, chain, chainId, identity, say);
    }
    await chain.close();
    return await boot({ ...o, port: booting.port }, home, booting.identity, booting.password, say);
  } catch (e) {
    await chain.close();
    throw e;
  }
}

async function checkKey(chain: ChainClient, name: string, keys: NodeKeys) {
  const onChain = (await notesOnChain(chain, name)).netKey;
  const ours = `0x${toHex(keys.publicKey)}`;
  if (onChain?.toLowerCase() !== ours) {
    throw new Refusal(
      `${name}'s ~net-key on chain is ${onChain ?? "missing"}, not this home's key ${ours}: reset the name's ` +
        `networking notes (boot without --password and choose Reset name), or import the keyfile that holds its key`,
    );
  }
}

/** Serves the registration pages until one of them boots the node; returns what it boots with. */
async function setup(
  o: RealNodeOptions,
  home: string,
  chain: ChainClient,
  chainId: number,
  identity: RealIdentity | null,
  say: (text: string) => void,
) {
  Deno.mkdirSync(home, { recursive: true });
  // Direct nodes publish their ports in the mint: chosen now (as the reference binds its listeners first), kept.
  const tcpPort = o.tcpPort || freePort();
  const wsPort = o.wsPort || freePort();
  // The chain's direct nodes are the router candidates; the node's indexer later continues from this state.
  const nodes = new Map<string, HnsUpdate>();
  const indexer = new HnsIndexer({
    chain,
    stateFile: `${home}/hns-indexer.json`,
    onUpdate: (u) => nodes.set(u.name, u),
    onForget: (n) => nodes.delete(n),
    log: (v, t) => v <= (o.verbosity ?? 0) && say(t),
    pollMs: o.pollMs,
  });
  await indexer.start({ wait: false });
  const server = new SetupServer({
    home,
    port: o.port,
    chain,
    chainId,
    tcpPort,
    wsPort,
    ip: defaultIp(),
    identity,
    indexed: () => nodes.values(),
    log: (v, t) => v <= (o.verbosity ?? 0) && say(t),
  });
  try {
    await server.start();
  } catch (e) {
    await indexer.stop();
    if (e instanceof Deno.errors.AddrInUse) {
      throw new Refusal(`port ${o.port} is in use: is another node running? Pick another with -p`);
    }
    throw e;
  }
  o.onSetup?.(server);
  say(`login or register at http://localhost:${server.port}`);
  if (!identity) say(`  on ${chainName(chainId)} (chain id ${chainId}) through ${o.rpc}`);
  try {
    const b = await server.booted;
    return { identity: b.identity, password: b.password, port: server.port };
  } finally {
    await indexer.stop();
    server.close();
  }
}

async function boot(
  o: RealNodeOptions,
  home: string,
  id: RealIdentity,
  password: string,
  say: (text: string) => void,
): Promise<Node> {
  const direct = "direct" in id.routing ? id.routing.direct : null;
  const routers = "routers" in id.routing ? id.routing.routers : [];
  const node = await Node.boot({
    home,
    name: id.name,
    port: o.port,
    password,
    verbosity: o.verbosity,
    stdin: o.stdin,
    label: o.label,
    write: o.write,
    sandbox: o.sandbox,
    hosts: o.hosts,
    onExit: o.onExit,
    appStore: true,
    network: {
      rpc: o.rpc,
      registered: true,
      // The notes say where others reach it (a public address, often not one of this machine's behind a NAT):
      // a direct node listens on every interface, as the reference's does; an indirect one on loopback only.
      ip: direct ? "0.0.0.0" : undefined,
      tcpPort: direct?.tcp ?? 0,
      wsPort: direct?.ws ?? 0,
      routers,
      publish: direct ? (["tcp", "ws"] as const).filter((k) => direct[k] > 0) : ["tcp", "ws"],
      pollMs: o.pollMs,
    },
  });
  const how = direct
    ? `direct at ${direct.ip} (tcp ${direct.tcp}, ws ${direct.ws})`
    : `indirect via ${routers.join(", ")}`;
  say(`${id.name}: node ready in ${Math.round(node.bootMs)} ms (${how}); home ${home}`);
  say(`  home page  http://localhost:${node.port}/   log in with the password set at registration`);
  say(`  here       type hi, m, top, peers, help (Ctrl-C stops the node)`);
  return node;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The address offered for a direct node: this machine's first non-loopback IPv4 address, else loopback. */
function defaultIp(): string {
  try {
    const v4 = Deno.networkInterfaces().find((i) => i.family === "IPv4" && !i.address.startsWith("127."));
    return v4?.address ?? "127.0.0.1";
  } catch {
    return "127.0.0.1";
  }
}
