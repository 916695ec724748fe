/** Two (or more) real nodes running file-transfer:template.os, and what the file-transfer tests ask of them. */
import { bootNet, bootNode, injectJson, type Net, type TestNode, waitFor } from "../runtime/testing.ts";
import { PACKAGES } from "./helpers.ts";
import type { TransferView } from "../packages/file-transfer/api/types.ts";

export const FT = "file-transfer:file-transfer:template.os";
export const FT_PKG = `${PACKAGES}file-transfer`;

export function bootFt(names = ["fake.dev", "fake2.dev"], extra: string[] = []): Promise<Net> {
  return bootNet(Object.fromEntries(names.map((n) => [n, {}])), { install: [FT_PKG, ...extra] });
}

/** Host path of `name` in a node's files drive. */
export function filePath(node: TestNode, name: string, pkg = "file-transfer:template.os"): string {
  return `${node.opts.home}/vfs/${pkg}/files/${name}`;
}

export async function putFile(node: TestNode, name: string, bytes: Uint8Array, pkg?: string) {
  const path = filePath(node, name, pkg);
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeFile(path, bytes);
}

export function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(b.subarray(off, Math.min(n, off + 65536)));
  return b;
}

export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** Starts a download the way the JSON API does; resolves with the transfer id. */
export async function download(
  node: Pick<TestNode, "port">,
  name: string,
  from: string,
  opts: { overwrite?: boolean; process?: string; chunk?: number } = {},
): Promise<string> {
  const r = await injectJson<{ Download: { Ok?: null; Err?: string }; transfer?: string }>(node, opts.process ?? FT, {
    Download: {
      name,
      target: from,
      is_requestor: true,
      overwrite: opts.overwrite ?? false,
      ...(opts.chunk ? { chunk: opts.chunk } : {}),
    },
  });
  if (r.Download.Err !== undefined) throw new Error(r.Download.Err);
  return r.transfer!;
}

export async function transfers(node: Pick<TestNode, "port">, process = FT): Promise<TransferView[]> {
  return (await injectJson<{ Transfers: TransferView[] }>(node, process, "Transfers")).Transfers;
}

export async function transfer(node: Pick<TestNode, "port">, id: string, process = FT): Promise<TransferView> {
  const t = (await transfers(node, process)).find((t) => t.id === id);
  if (!t) throw new Error(`no transfer ${id}`);
  return t;
}

/**
 * Waits until transfer `id` reaches one of `statuses`; returns it. One that is "done" when that is not awaited fails
 * at once, saying so: a transfer that finished before the fault the test meant for it.
 */
export async function until(
  node: Pick<TestNode, "port">,
  id: string,
  statuses: TransferView["status"][],
  ms = 90_000,
  process = FT,
): Promise<TransferView> {
  let t: TransferView | undefined;
  await waitFor(`transfer ${id} to be ${statuses.join(" or ")}`, async () => {
    t = await transfer(node, id, process).catch(() => undefined);
    if (t?.status === "done" && !statuses.includes("done")) {
      throw new Error(`transfer ${id} was done before it was ${statuses.join(" or ")}: the fault came too late`);
    }
    return t !== undefined && statuses.includes(t.status);
  }, ms);
  return t!;
}

export async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Stops `name` (its processes end at once, mid-transfer) and boots it again from the same home. */
export async function stopNode(net: Net, name: string): Promise<string> {
  const node = net.nodes[name];
  await node.shutdown();
  return node.opts.home;
}

export async function restartNode(net: Net, name: string, home: string): Promise<TestNode> {
  const node = await bootNode({ name, home, network: { chainPort: net.chain.port } });
  net.nodes[name] = node;
  const others = Object.keys(net.nodes).filter((n) => n !== name);
  await waitFor(`${name} to know its peers again`, () => others.every((o) => node.net!.hns.has(o)));
  return node;
}

/** Lines the node printed that contain `text`. */
export function printed(node: TestNode, text: string): string[] {
  return node.lines.filter((l) => l.includes(text));
}
