/**
 * The App Store's install side on real nodes: kit's start-package messages (NewPackage, Install) and view-api's (Apis,
 * GetApi) against main:app-store:sys; installs only with the owner's approval of what the manifest asks for.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNode, inject, injectJson, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { logIn } from "./http_helpers.ts";
import {
  DOWNLOADS,
  installStore,
  MAIN,
  newChat,
  newPackage,
  pkgRecord,
  storeClient,
  zipOf,
} from "./appstore_helpers.ts";
import { startPackage } from "../cli/start_package.ts";
import { storeApi, storeApis } from "../cli/app_store_client.ts";

const PING = new URL("../packages/ping", import.meta.url).pathname;

async function withStore(f: (n: TestNode) => Promise<void>) {
  const n = await bootNode({ password: "secret" });
  try {
    await installStore(n);
    await f(n);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
}

Deno.test("kit's start-package messages install a package through main:app-store:sys, and view-api's list its API", async () => {
  await withStore(async (n) => {
    const { packageId, zip, sha256 } = await zipOf(PING);
    assertEquals(await newPackage(n, packageId, zip), { NewPackageResponse: "Success" });
    const install = { Install: { package_id: pkgRecord(packageId), metadata: null, version_hash: sha256 } };
    assertEquals(await injectJson(n, MAIN, install, 60), { InstallResponse: "Success" });
    await waitFor("ping running", () => n.kernel.processes.has(`ping:${packageId}`));
    const pong = await inject(n, `ping:${packageId}`, '"ping"');
    assertEquals(pong.body, '"pong"');
    const apis = await injectJson<{ ApisResponse: { apis: unknown[] } }>(n, MAIN, "Apis");
    assert(Array.isArray(apis.ApisResponse.apis));
    // A hash that names no zip held: Failure, nothing installed.
    const other = { Install: { package_id: pkgRecord("nope:test.os"), metadata: null, version_hash: "ab".repeat(32) } };
    assertEquals(await injectJson(n, MAIN, other, 30), { InstallResponse: "Failure" });
    assert(!n.kernel.processes.ids().some((id) => id.endsWith(":nope:test.os")));
    assertEquals(await injectJson(n, MAIN, { Uninstall: pkgRecord(packageId) }, 30), { UninstallResponse: "Success" });
    assert(!n.kernel.processes.has(`ping:${packageId}`));
  });
});

Deno.test("the web install grants nothing without the owner's approval of exactly what the manifest asks for", async () => {
  await withStore(async (n) => {
    const { packageId, zip, sha256 } = await zipOf(PING);
    assertEquals(await newPackage(n, packageId, zip, false), { NewPackageResponse: "Success" });
    const c = await storeClient(n);
    const consent = await c.post("consent", { id: packageId, version_hash: sha256 });
    assertEquals(consent.status, 200, consent.text);
    const requested = consent.json.requested as string[];
    assert(requested.length > 0, "ping asks for something");
    const none = await c.post("install", { id: packageId, version_hash: sha256 });
    assertEquals(none.status, 400, none.text);
    const partial = await c.post("install", { id: packageId, version_hash: sha256, approve: requested.slice(1) });
    assertEquals(partial.status, 409, partial.text);
    assert(!n.kernel.processes.has(`ping:${packageId}`), "nothing installed without the whole approval");
    const ok = await c.post("install", { id: packageId, version_hash: sha256, approve: requested });
    assertEquals(ok.status, 200, ok.text);
    await waitFor("ping running", () => n.kernel.processes.has(`ping:${packageId}`));
    const mine = (await c.get("installed")).json as unknown as { id: string; granted: string[] }[];
    assertEquals(mine.map((i) => [i.id, i.granted]), [[packageId, requested]]);
  });
});

Deno.test("hyperdeno start-package and view-api go through the App Store as kit's do; a node without one still installs", async () => {
  const chat = await newChat("template.os");
  try {
    await zipOf(chat); // built
    await withStore(async (n) => {
      const said: string[] = [];
      assertEquals(await startPackage(chat, n.port, (l) => said.push(l)), 0);
      assertMatch(said[0], /^started chat:template\.os on port \d+ through its App Store \(code hash [0-9a-f]{64}\)$/);
      await waitFor("chat running", () => n.kernel.processes.has("chat:chat:template.os"));
      assert((await storeApis(n.port))!.includes("chat:template.os"));
      const api = await storeApi(n.port, "chat:template.os");
      assertEquals(Object.keys(api!), ["chat:template.os-v0.ts"]);
      assertEquals(await storeApi(n.port, "nothing:template.os"), {});
      // The zip is kept (and mirrored) by downloads, as kit's NewPackage asks.
      const files = await injectJson<{ GetFiles: unknown[] }>(n, DOWNLOADS, { GetFiles: null });
      assertEquals(files.GetFiles, [{ Dir: { name: "chat:template.os", mirroring: true } }]);
    });
    const bare = await bootNode();
    try {
      const said: string[] = [];
      assertEquals(await startPackage(chat, bare.port, (l) => said.push(l)), 0);
      assertMatch(said[0], /^started chat:template\.os on port \d+: chat:chat:template\.os/);
      assertEquals(await storeApis(bare.port), null);
    } finally {
      await bare.shutdown();
      await removeHome(bare);
    }
  } finally {
    await Deno.remove(chat.replace(/\/chat$/, ""), { recursive: true });
  }
});

Deno.test("a package without the kernel's root cannot install through the kernel or the App Store", async () => {
  await withStore(async (n) => {
    await install(n, `${FIXTURES}store_climber`);
    const r = await injectJson<{ kernel: { Err?: string }; main: { refused?: string } }>(
      n,
      "climber:store-climber:test.os",
      "climb",
      30,
    );
    assertMatch(r.kernel.Err ?? "", /InstallPackage needs the kernel's root capability/);
    assert(r.main.refused !== undefined, JSON.stringify(r.main));
    assert(!n.kernel.processes.has("evil:evil:test.os"), "nothing installed");
  });
});

Deno.test("another site's page cannot drive the App Store's API with the owner's cookie", async () => {
  await withStore(async (n) => {
    const cookie = await logIn(`http://127.0.0.1:${n.port}`, "secret");
    const r = await fetch(`http://127.0.0.1:${n.port}/${MAIN}/api/install`, {
      method: "POST",
      headers: { cookie, origin: "http://evil.example", "sec-fetch-site": "cross-site", "content-type": "text/plain" },
      body: JSON.stringify({ id: "ping:template.os", version_hash: "00".repeat(32), approve: [] }),
    });
    await r.body?.cancel();
    assertEquals(r.status, 403);
  });
});

Deno.test("a node booted with the App Store carries it as a distro package, with its tile and widget on the home page", async () => {
  const n = await bootNode({ appStore: true });
  try {
    await waitFor("the App Store's tile", () => n.http.homepage.list().some((a) => a.label === "App Store"), 60_000);
    const tile = n.http.homepage.list().find((a) => a.label === "App Store")!;
    assertEquals([tile.process, tile.path], [MAIN, "/"]);
    assertMatch(tile.widget ?? "", /0 installed/);
    assert(n.kernel.processes.has("downloads:app-store:sys") && n.kernel.processes.has("chain:app-store:sys"));
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});
