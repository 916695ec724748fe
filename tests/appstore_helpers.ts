/** The App Store on test nodes: installing app-store:sys, publishing a zip to a node, calling its web API. */
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { zipPkg } from "../cli/pkg_zip.ts";
import { buildWithFlags } from "../cli/build.ts";
import { inject, type TestNode, waitFor } from "../runtime/testing.ts";
import { logIn } from "./http_helpers.ts";

export const STORE_DIR = new URL("../packages/app-store", import.meta.url).pathname;
export const MAIN = "main:app-store:sys";
export const DOWNLOADS = "downloads:app-store:sys";

/** Installs app-store:sys on a node and waits for its page. */
export async function installStore(node: TestNode) {
  await buildPackage(STORE_DIR, { onlyIfStale: true });
  node.install("app-store:sys", readPkgDir(`${STORE_DIR}/pkg`));
  await waitFor("the App Store's page", () => node.http.bindings.has(`/${MAIN}/api/install`), 30_000);
}

/** A package built and zipped as `hyperdeno build` does: its zip's bytes and SHA-256 (the code hash). */
export async function zipOf(dir: string): Promise<{ packageId: string; zip: Uint8Array; sha256: string }> {
  const flags = { port: "0", include: [], exclude: [], "local-dependency": [], "add-to-api": [] };
  const packageId = await buildWithFlags(dir, flags);
  const z = await zipPkg(dir, packageId);
  return { packageId, zip: Deno.readFileSync(z.path), sha256: z.sha256 };
}

export function pkgRecord(packageId: string) {
  const [package_name, publisher_node] = [
    packageId.slice(0, packageId.indexOf(":")),
    packageId.slice(packageId.indexOf(":") + 1),
  ];
  return { package_name, publisher_node };
}

/** kit start-package's first message: the zip to main:app-store:sys, kept by downloads (mirrored if asked). */
export async function newPackage(node: TestNode, packageId: string, zip: Uint8Array, mirror = true) {
  const r = await inject(node, MAIN, { NewPackage: { package_id: pkgRecord(packageId), mirror } }, {
    blob: zip,
    timeout: 30,
  });
  return JSON.parse(r.body ?? "null");
}

/** A logged-in client of a node's App Store API (on the node's host, as scripts call it). */
export async function storeClient(node: TestNode, password = "secret") {
  const base = `http://127.0.0.1:${node.port}`;
  const cookie = await logIn(base, password);
  const call = async (path: string, body?: unknown) => {
    const r = await fetch(`${base}/${MAIN}/api/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { cookie },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: r.status, json: json as Record<string, unknown> & unknown[], text };
  };
  // The node is ready before the App Store's main process has bound its paths.
  await waitFor("the App Store's API", async () => (await call("installed")).status !== 404, 60_000);
  return { get: (path: string) => call(path), post: (path: string, body: unknown) => call(path, body) };
}

export type StoreClient = Awaited<ReturnType<typeof storeClient>>;

/** Waits until a download of `id`'s `hash` ended on the node; returns it. */
export async function downloadEnded(c: StoreClient, id: string, hash: string, ms = 90_000) {
  let d: Record<string, unknown> | undefined;
  await waitFor(`the download of ${id}`, async () => {
    const list = (await c.get("downloads")).json as unknown as Record<string, unknown>[];
    d = list.find((x) => x.id === id && x.version_hash === hash);
    return d?.status === "done" || d?.status === "failed";
  }, ms);
  return d!;
}

/** The templates' chat as `hyperdeno new DIR -t chat -u PUBLISHER` writes it, in a new temporary folder. */
export async function newChat(publisher: string): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "hyperdeno-store-chat-" });
  const { run } = await import("../cli/new.ts");
  const log = console.log;
  console.log = () => {};
  try {
    await run([`${root}/chat`, "-t", "chat", "-u", publisher]);
  } finally {
    console.log = log;
  }
  return `${root}/chat`;
}
