/**
 * Downloads between App Store nodes over real links: a version fetched from its publisher, mirrored by another node,
 * served by that mirror once the publisher is gone; a mirror serving other bytes under the version's hash is refused
 * (nothing kept, nothing installed) and the next mirror tried; a download cut short resumes from its partial file.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNet, inject, waitFor } from "../runtime/testing.ts";
import { downloadEnded, DOWNLOADS, installStore, newPackage, storeClient, zipOf } from "./appstore_helpers.ts";
import { sha256Hex } from "../packages/app-store/api/ids.ts";

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

    // Peers ask for what is not served: a name outside the zips, a package not mirrored.
    const ask = (name: string, node: string) =>
      inject(c, DOWNLOADS, { Download: { name, target: "x", is_requestor: false } }, { nodeName: node });
    const climb = JSON.parse((await ask("../../app-store:sys/pkg/manifest.json", "mirror.dev")).body!);
    assertMatch(climb.Download.Err, /serves app zips named <package>\/<sha256>\.zip/);
    const notMirrored = JSON.parse((await ask(`${id}/${hash}.zip`, "user.dev")).body!);
    assertMatch(notMirrored.Download.Err, /^NotMirroring/);

    // The liar now offers 200 MiB under the hash (a sparse file): refused at the offer, over the bound.
    await Deno.truncate(zipAt(t.opts.home), 200 * 1024 * 1024);
    // The publisher stops: the liar is refused again, the mirror serves.
    await a.shutdown();
    await cc.post("download", { id, version_hash: hash, mirrors: ["pub.dev", "liar.dev", "mirror.dev"] });
    const got = await downloadEnded(cc, id, hash, 180_000);
    assertEquals([got.status, got.mirror], ["done", "mirror.dev"], JSON.stringify(got));
    const tried = got.tries as [string, string][];
    assertEquals(tried.map(([m]) => m), ["pub.dev", "liar.dev"]);
    assertMatch(tried[1][1], /^TooLarge: liar\.dev offered 209715200 bytes/);
    assertEquals(await Deno.readFile(zipAt(c.opts.home)), zip);

    const consent = await cc.post("consent", { id, version_hash: hash });
    const ok = await cc.post("install", { id, version_hash: hash, approve: consent.json.requested });
    assertEquals(ok.status, 200, ok.text);
    await waitFor("ping on user.dev", () => c.kernel.processes.has(`ping:${id}`));
  } finally {
    await net.close().catch(() => {});
  }
});

Deno.test("a download that was cut resumes from its partial file, and the whole is checked against the code hash", async () => {
  const net = await bootNet({ "mirror.dev": {}, "user.dev": {} });
  try {
    const [b, c] = [net.nodes["mirror.dev"], net.nodes["user.dev"]];
    for (const n of [b, c]) await installStore(n);
    const id = "big:test.os";
    const bytes = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    const hash = await sha256Hex(bytes);
    await Deno.mkdir(`${b.opts.home}/vfs/app-store:sys/files/${id}`, { recursive: true });
    await Deno.writeFile(`${b.opts.home}/vfs/app-store:sys/files/${id}/${hash}.zip`, bytes);
    await (await storeClient(b)).post("mirror", { id, on: true });
    // What an earlier attempt from mirror.dev left: the first half, in the partial file that attempt wrote.
    const half = bytes.length / 2;
    const part = `${c.opts.home}/vfs/app-store:sys/partial/as${hash.slice(0, 16)}0.part`;
    await Deno.writeFile(part, bytes.slice(0, half));
    // That attempt's worker ended after its writes landed (a broken link, not a killed node): it marked the file whole.
    await Deno.writeFile(`${part}.whole`, new Uint8Array());
    const cc = await storeClient(c);
    await cc.post("download", { id, version_hash: hash, mirrors: ["mirror.dev"] });
    const got = await downloadEnded(cc, id, hash);
    assertEquals([got.status, got.mirror, got.resumed_from], ["done", "mirror.dev", half], JSON.stringify(got));
    assertEquals(await Deno.readFile(`${c.opts.home}/vfs/app-store:sys/files/${id}/${hash}.zip`), bytes);
  } finally {
    await net.close().catch(() => {});
  }
});
