/**
 * Downloads between App Store nodes over real links: a version fetched from its publisher, mirrored by another node,
 * served by that mirror once the publisher is gone; a mirror serving other bytes under the version's hash is refused
 * (nothing kept, nothing installed) and the next mirror tried.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNet, waitFor } from "../runtime/testing.ts";
import { downloadEnded, installStore, newPackage, storeClient, zipOf } from "./appstore_helpers.ts";

const PING = new URL("../packages/ping", import.meta.url).pathname;
const exists = (p: string) => Deno.stat(p).then(() => true, () => false);

Deno.test("a zip comes from its publisher, then from a mirror when the publisher is offline; a tampered mirror is refused", async () => {
  const net = await bootNet({ "pub.dev": {}, "mirror.dev": {}, "liar.dev": {}, "user.dev": {} });
  try {
    const { pub: a, mirror: b, liar: t, user: c } = {
      pub: net.nodes["pub.dev"],
      mirror: net.nodes["mirror.dev"],
      liar: net.nodes["liar.dev"],
      user: net.nodes["user.dev"],
    };
    for (const n of [a, b, t, c]) await installStore(n);
    const { packageId: id, zip, sha256: hash } = await zipOf(PING);
    const zipAt = (home: string) => `${home}/vfs/app-store:sys/files/${id}/${hash}.zip`;

    // The publisher holds the zip and mirrors it (kit's start-package with mirror: true).
    assertEquals(await newPackage(a, id, zip, true), { NewPackageResponse: "Success" });
    // The mirror downloads it from the publisher and turns mirroring on.
    const bc = await storeClient(b);
    assertEquals((await bc.post("download", { id, version_hash: hash, mirrors: ["pub.dev"] })).status, 200);
    const fromA = await downloadEnded(bc, id, hash);
    assertEquals([fromA.status, fromA.mirror], ["done", "pub.dev"], JSON.stringify(fromA));
    assertEquals((await bc.post("mirror", { id, on: true })).json, { id, mirroring: true });

    // A hostile mirror holds other bytes under the version's hash, and serves them.
    const tampered = zip.slice();
    tampered[tampered.length - 30] ^= 0xff;
    await Deno.mkdir(`${t.opts.home}/vfs/app-store:sys/files/${id}`, { recursive: true });
    await Deno.writeFile(zipAt(t.opts.home), tampered);
    await (await storeClient(t)).post("mirror", { id, on: true });

    const cc = await storeClient(c);
    // Only the liar: refused, nothing kept, nothing installable.
    await cc.post("download", { id, version_hash: hash, mirrors: ["liar.dev"] });
    const lied = await downloadEnded(cc, id, hash);
    assertEquals(lied.status, "failed", JSON.stringify(lied));
    assertMatch(JSON.stringify(lied.tries), /liar\.dev.*HashMismatch/);
    assert(!await exists(zipAt(c.opts.home)), "the tampered zip is not kept");
    const refused = await cc.post("consent", { id, version_hash: hash });
    assertEquals(refused.status, 404, refused.text);
    assert(!c.kernel.processes.has(`ping:${id}`));

    // The publisher stops: the liar is refused again, the mirror serves.
    await a.shutdown();
    await cc.post("download", { id, version_hash: hash, mirrors: ["pub.dev", "liar.dev", "mirror.dev"] });
    const got = await downloadEnded(cc, id, hash, 180_000);
    assertEquals([got.status, got.mirror], ["done", "mirror.dev"], JSON.stringify(got));
    const tried = (got.tries as [string, string][]).map(([m]) => m);
    assertEquals(tried, ["pub.dev", "liar.dev"]);
    assertEquals(await Deno.readFile(zipAt(c.opts.home)), zip);

    const consent = await cc.post("consent", { id, version_hash: hash });
    const ok = await cc.post("install", { id, version_hash: hash, approve: consent.json.requested });
    assertEquals(ok.status, 200, ok.text);
    await waitFor("ping on user.dev", () => c.kernel.processes.has(`ping:${id}`));
  } finally {
    await net.close().catch(() => {});
  }
});
