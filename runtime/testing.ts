/**
 * Real nodes for tests (and for a `run-tests` command): each in a temporary
 * home on loopback ports, spoken to the way a user would, over the node's
 * HTTP port, and networks of them around a fake chain.
 */
import { Node, type NodeOptions } from "./boot.ts";
import type { NetworkOptions } from "./boot.ts";
import { buildPackage } from "./packages/build.ts";
import { readPkgDir } from "./packages/install.ts";
import { encodeBase64 } from "./bytes.ts";
import { Anvil } from "../chain/anvil.ts";
import { ChainClient } from "../chain/client.ts";
import { deployHypermap } from "../chain/deploy.ts";
import { type Publish, registerName } from "../chain/register.ts";
import { type Hex, keccak256, stringToBytes } from "viem";
import { freePort } from "./free_port.ts";

export { freePort };

export interface TestNode extends Node {
  lines: string[];
}

/** Boots a node (fake.dev, any free port, a temporary home unless given) whose printed lines collect in `lines`. */
export async function bootNode(opts: Partial<NodeOptions> & { home?: string } = {}): Promise<TestNode> {
  const home = opts.home ?? await Deno.makeTempDir({ prefix: "hyperdeno-test-" });
  const lines: string[] = [];
  let node: TestNode;
  try {
    node = await Node.boot({
      ...opts,
      home,
      name: opts.name ?? "fake.dev",
      port: opts.port ?? 0,
      verbosity: opts.verbosity ?? 1,
      stdin: false,
      write: opts.write ?? ((l) => lines.push(l)),
    }) as TestNode;
  } catch (e) {
    // A refused boot leaves no home behind: one made here is nobody else's.
    if (opts.home === undefined) await Deno.remove(home, { recursive: true }).catch(() => {});
    throw e;
  }
  node.lines = lines;
  return node;
}

/** Builds (if stale) and installs a package directory on the node. */
export async function install(node: Node, dir: string) {
  const { packageId } = await buildPackage(dir, { onlyIfStale: true });
  return node.install(packageId, readPkgDir(`${dir}/pkg`));
}

export interface Injected {
  status: number;
  body?: string;
  blob?: string | null;
  error?: string;
}

/**
 * Sends a message the way `inject-message` does: over the node's HTTP port (a node in this process or another).
 * Unless told, it waits up to 60 s for the answer: a bound for a hang, which a busy machine's slow answer never meets.
 */
export async function inject(
  node: Pick<Node, "port">,
  process: string,
  body: unknown,
  opts: { timeout?: number | null; blob?: Uint8Array; nodeName?: string } = {},
): Promise<Injected> {
  const resp = await fetch(`http://127.0.0.1:${node.port}/rpc:distro:sys/message`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      process,
      node: opts.nodeName ?? null,
      body: typeof body === "string" ? body : JSON.stringify(body),
      blob: opts.blob ? encodeBase64(opts.blob) : null,
      expects_response: opts.timeout === undefined ? 60 : opts.timeout,
    }),
  });
  return { status: resp.status, ...await resp.json() };
}

/** Sends `body` as JSON and parses the JSON answer. */
export async function injectJson<T = unknown>(
  node: Pick<Node, "port">,
  process: string,
  body: unknown,
  timeout = 60,
): Promise<T> {
  const r = await inject(node, process, JSON.stringify(body), { timeout });
  if (r.status !== 200) throw new Error(`inject to ${process} failed: ${r.status} ${r.error}`);
  return JSON.parse(r.body!) as T;
}

/**
 * Polls `pred` until it holds, or throws after `ms`: a bound that only catches a hang (what takes a second on a
 * quiet machine takes several at a load average of 16), never a speed check. The polls start 10 ms apart and
 * spread to 100 ms: many predicates ask a node (an RPC to a process), and polling every 20 ms through a long wait
 * was a good part of the suite's CPU on a loaded machine, where waits are longest.
 */
export async function waitFor(what: string, pred: () => boolean | Promise<boolean>, ms = 30_000) {
  const until = Date.now() + ms;
  for (let gap = 10; Date.now() < until; gap = Math.min(100, gap * 1.5)) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, gap));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Deletes the node's home (after shutdown). */
export async function removeHome(node: Node) {
  await Deno.remove(node.opts.home, { recursive: true }).catch(() => {});
}

/**
 * Boots a node, installs `packages` (directories), runs `f`, and always shuts
 * the node down. A home given by the caller is kept; a temporary one is removed.
 */
export async function withNode(packages: string[], f: (n: TestNode) => Promise<void>, home?: string) {
  const node = await bootNode({ home });
  try {
    for (const p of packages) await install(node, p);
    await f(node);
  } finally {
    await node.shutdown();
    if (!home) await removeHome(node);
  }
}

// ---------------------------------------------------------------- networks

/** A dev chain for tests: anvil on a free port with Hypermap (and the os and dev parents) on it. */
export interface TestChain {
  anvil: Anvil;
  client: ChainClient;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts anvil (~0.1 s) on a free loopback port and deploys Hypermap (unless `deploy` is false: a bare chain). */
export async function startChain(deploy = true): Promise<TestChain> {
  const port = freePort();
  const anvil = await Anvil.start(port);
  const client = new ChainClient(anvil.url);
  if (deploy) await deployHypermap(client);
  return {
    anvil,
    client,
    port,
    url: anvil.url,
    async stop() {
      await client.close();
      await anvil.stop();
    },
  };
}

export interface Net {
  chain: TestChain;
  nodes: Record<string, TestNode>;
  close(): Promise<void>;
}

/**
 * Starts a dev chain and one node per entry of `specs` registered on it, installs the package directories in
 * `opts.install` on each, and waits until every node knows every other.
 */
export async function bootNet(
  specs: Record<string, Partial<NetworkOptions>>,
  opts: { install?: string[]; chain?: TestChain } = {},
): Promise<Net> {
  const chain = opts.chain ?? await startChain();
  const nodes: Record<string, TestNode> = {};
  for (const [name, net] of Object.entries(specs)) {
    nodes[name] = await bootNode({ name, network: { chainPort: chain.port, pollMs: 100, ...net } });
    for (const dir of opts.install ?? []) await install(nodes[name], dir);
  }
  // Everyone knows everyone once the chain has reached every node's indexer.
  const names = Object.keys(specs);
  const until = Date.now() + 30_000;
  while (Date.now() < until && !Object.values(nodes).every((n) => names.every((m) => n.net!.hns.has(m)))) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    chain,
    nodes,
    async close() {
      for (const n of Object.values(nodes)) {
        await n.shutdown();
        await Deno.remove(n.opts.home, { recursive: true }).catch(() => {});
      }
      if (!opts.chain) await chain.stop();
    },
  };
}

/** A test's account for a name: one key per name, so a test that writes a name again does so as its owner. */
export const testOwner = (name: string): Hex => keccak256(stringToBytes(`hyperdeno test owner of ${name}`));

/** Registers `p` on a dev chain as `owner` (the test's account for the name unless told). */
export function registerTestName(client: ChainClient, p: Publish, owner: Hex = testOwner(p.name)) {
  return registerName(client, p, owner);
}

/**
 * Registers an identity on the test chain as a node would, for a hand-made peer to speak as: direct on 127.0.0.1
 * tcp 9 unless told otherwise, owned by the test's account for the name unless told.
 */
export async function registerOnChain(
  chain: TestChain,
  name: string,
  publicKey: Uint8Array,
  where: Partial<Pick<Publish, "ips" | "ports" | "routers">> = {},
  owner: Hex = testOwner(name),
): Promise<bigint> {
  const { block } = await registerTestName(chain.client, {
    name,
    publicKey,
    ips: where.ips ?? ["127.0.0.1"],
    ports: where.ports ?? { tcp: 9 },
    routers: where.routers ?? [],
  }, owner);
  return block;
}
