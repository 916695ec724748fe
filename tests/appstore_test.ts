/**
 * The App Store's install side on real nodes: kit's start-package messages (NewPackage, Install) and view-api's (Apis,
 * GetApi) against main:app-store:sys; installs only with the owner's approval of what the manifest asks for.
 */
import { assert, assertEquals } from "./assert.ts";
import { bootNode, inject, injectJson, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { installStore, MAIN, newPackage, pkgRecord, storeClient, zipOf } from "./appstore_helpers.ts";

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
