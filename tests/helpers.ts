/** Shared test helpers: real nodes in temporary homes, on real loopback ports. */
import { Node, type NodeOptions } from "../runtime/boot.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { encodeBase64 } from "../runtime/bytes.ts";

export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
export const PACKAGES = new URL("../packages/", import.meta.url).pathname;

export interface TestNode extends Node {
  lines: string[];
}

export async function bootNode(opts: Partial<NodeOptions> & { home?: string } = {}): Promise<TestNode> {
  const home = opts.home ?? await Deno.makeTempDir({ prefix: "hyperdeno-test-" });
  const lines: string[] = [];
  const node = await Node.boot({
    ...opts,
    home,
    name: opts.name ?? "fake.dev",
    port: opts.port ?? 0,
    verbosity: opts.verbosity ?? 1,
    stdin: false,
    write: opts.write ?? ((l) => lines.push(l)),
  }) as TestNode;
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

/** Sends a message the way `inject-message` does: over the node's HTTP port. */
export async function inject(
  node: Node,
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
      expects_response: opts.timeout === undefined ? 10 : opts.timeout,
    }),
  });
  return { status: resp.status, ...await resp.json() };
}

/** Sends `body` as JSON and parses the JSON answer. */
export async function injectJson<T = unknown>(node: Node, process: string, body: unknown, timeout = 10): Promise<T> {
  const r = await inject(node, process, JSON.stringify(body), { timeout });
  if (r.status !== 200) throw new Error(`inject to ${process} failed: ${r.status} ${r.error}`);
  return JSON.parse(r.body!) as T;
}

export async function waitFor(what: string, pred: () => boolean | Promise<boolean>, ms = 10_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

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
