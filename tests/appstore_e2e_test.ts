/**
 * The App Store end to end, on a dev chain with three fake nodes: pub.dev publishes the templates' chat (its
 * metadata on a static host of its own), mirror.dev mirrors it, pub.dev stops; user.dev finds chat in the store, downloads it
 * from mirror.dev, its owner approves what it asks for in Chromium, and chat works between mirror.dev and user.dev.
 * Then pub.dev, booted again, publishes 0.2.0 and user.dev (auto-update on) runs it; 0.3.0 asks for more
 * capabilities: user.dev asks its owner again and keeps running 0.2.0.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNet, bootNode, injectJson, waitFor } from "../runtime/testing.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import { launchChromium } from "./browser.ts";
import { freePort } from "./cli_helpers.ts";
import { run as publishCli } from "../cli/publish.ts";
import { startPackage } from "../cli/start_package.ts";
import { downloadEnded, installStore, MAIN, newChat, storeClient, zipOf } from "./appstore_helpers.ts";

const CHAT = "chat:pub.dev";
const CHAT_PROCESS = `chat:${CHAT}`;

/** The publisher's static host for metadata.json (as a GitHub raw link would be). */
function metadataHost() {
  const files = new Map<string, Uint8Array>();
  const port = freePort();
  const server = Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const body = files.get(new URL(req.url).pathname);
    return body ? new Response(body as Uint8Array<ArrayBuffer>) : new Response("no such file", { status: 404 });
  });
  return { files, url: (path: string) => `http://127.0.0.1:${port}${path}`, close: () => server.shutdown() };
}

/** Writes the chat's metadata.json for `version` (code hashes of every version so far) and serves it at /chat.json. */
async function writeMetadata(dir: string, host: ReturnType<typeof metadataHost>, hashes: Record<string, string>) {
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/metadata.json`));
  const versions = Object.keys(hashes);
  meta.properties.current_version = versions.at(-1);
  meta.properties.mirrors = ["pub.dev", "mirror.dev"];
  meta.properties.code_hashes = hashes;
  meta.description = "Chat with other nodes.";
  const bytes = new TextEncoder().encode(JSON.stringify(meta, null, 2) + "\n");
  await Deno.writeFile(`${dir}/metadata.json`, bytes);
  host.files.set("/chat.json", bytes);
}

/** A new version of the chat: a marker in its code, its version in metadata.json; built, zipped, on the publisher. */
async function newVersion(dir: string, version: string, caps: string[] = []) {
  const main = `${dir}/chat/main.ts`;
  const code = (await Deno.readTextFile(main)).replace(/\nexport const VERSION = .*\n/, "");
  await Deno.writeTextFile(main, `${code}\nexport const VERSION = "chat ${version}";\n`);
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/pkg/manifest.json`));
  manifest[0].request_capabilities = caps;
  await Deno.writeTextFile(`${dir}/pkg/manifest.json`, JSON.stringify(manifest, null, 2));
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/metadata.json`));
  meta.properties.current_version = version;
  await Deno.writeTextFile(`${dir}/metadata.json`, JSON.stringify(meta, null, 2));
  return (await zipOf(dir)).sha256;
}

Deno.test("app store e2e: publish, mirror, publisher offline, install from the mirror with consent in the browser, chat, auto-update", async () => {
  const net = await bootNet({ "pub.dev": {}, "mirror.dev": {}, "user.dev": {} });
  const host = metadataHost();
  const chat = await newChat("pub.dev");
  const browser = await launchChromium();
  try {
    const [a, b, c] = ["pub.dev", "mirror.dev", "user.dev"].map((n) => net.nodes[n]);
    for (const n of [a, b, c]) await installStore(n);

    // pub.dev builds, installs (its App Store keeps and mirrors the zip) and publishes 0.1.0.
    const v1 = (await zipOf(chat)).sha256;
    await writeMetadata(chat, host, { "0.1.0": v1 });
    assertEquals(await startPackage(chat, a.port, () => {}), 0);
    assertEquals(await publishCli(["-p", String(a.port), "-u", host.url("/chat.json"), chat]), 0);

    // Every node's chain process lists it, metadata verified.
    const listed = async (n: typeof a) => {
      const r = await (await storeClient(n)).get(`app?id=${CHAT}`);
      return (r.json as { app?: { metadata?: { properties: { current_version: string } } } }).app?.metadata
        ?.properties.current_version;
    };
    for (const n of [b, c]) await waitFor(`${n.name} to list chat`, async () => await listed(n) === "0.1.0", 90_000);

    // mirror.dev downloads it (from pub.dev), installs it and mirrors it.
    const bc = await storeClient(b);
    assertEquals((await bc.post("download", { id: CHAT })).status, 200);
    assertEquals((await downloadEnded(bc, CHAT, v1)).mirror, "pub.dev");
    const bConsent = await bc.post("consent", { id: CHAT, version_hash: v1 });
    assertEquals(
      (await bc.post("install", { id: CHAT, version_hash: v1, approve: bConsent.json.requested })).status,
      200,
    );
    await bc.post("mirror", { id: CHAT, on: true });

    // pub.dev stops (its metadata stays where it is hosted, as on GitHub).
    await a.shutdown();

    // user.dev's owner, in the browser: the store, chat's page, download, the consent dialog, approve.
    const page = await (await browser.newContext()).newPage();
    await page.goto(`http://localhost:${c.port}/login?redirect=${encodeURIComponent(`/${MAIN}/`)}`);
    await page.fill("#password", "secret");
    const base = `http://${appLabel(MAIN)}.localhost:${c.port}`;
    await Promise.all([page.waitForURL(`${base}/${MAIN}/`), page.click("button[type=submit]")]);
    await page.fill("input[type=search]", "chat");
    await page.click(`[data-app="${CHAT}"]`);
    await page.waitForSelector("text=Chat with other nodes.");
    assertMatch(await page.textContent("table") ?? "", /mirror\.dev/);
    await page.click("#download");
    await page.waitForSelector("#status:has-text('SHA-256 verified')", { timeout: 180_000 });
    assertMatch(await page.textContent("#status") ?? "", /from mirror\.dev/);
    await page.click("#install");
    await page.waitForSelector("dialog#consent[open]");
    const lines = await page.$$eval("#consent-lines li", (lis) => lis.map((li) => li.textContent));
    assert(lines.includes("chat: networking (talk to other nodes)"), JSON.stringify(lines));
    assert(!c.kernel.processes.has(CHAT_PROCESS), "nothing installed before the owner approves");
    await page.click("#consent-approve");
    await page.waitForSelector(`#status:has-text('Installed ${CHAT}.')`);
    await waitFor("chat on user.dev", () => c.kernel.processes.has(CHAT_PROCESS));

    // Chat works between the mirror and the new user.
    await injectJson(c, CHAT_PROCESS, { Send: { target: "mirror.dev", message: "hello from the store" } }, 30);
    const history = await injectJson<{ History: { content: string }[] }>(b, CHAT_PROCESS, { History: "user.dev" });
    assertEquals(history.History.map((m) => m.content), ["hello from the store"]);

    // Downloads says where it came from, and what the offline publisher did.
    await page.goto(`${base}/${MAIN}/#/downloads`);
    const row = await page.waitForSelector(`#downloads tr[data-app="${CHAT}"]:has-text("done")`);
    assertMatch(await row.textContent() ?? "", /mirror\.dev.*pub\.dev: Offline/);

    // Auto-update on (My Apps); pub.dev comes back and publishes 0.2.0.
    await page.goto(`${base}/${MAIN}/#/installed`);
    await page.check(`[data-app="${CHAT}"] .auto-update`);
    const cc = await storeClient(c);
    await waitFor("auto-update on", async () => {
      const mine = (await cc.get("installed")).json as unknown as { auto_update: boolean }[];
      return mine[0]?.auto_update === true;
    });
    const a2 = await bootNode({
      name: "pub.dev",
      home: a.opts.home,
      network: { chainPort: net.chain.port, pollMs: 100 },
    });
    net.nodes["pub.dev"] = a2;
    await installStore(a2);
    const v2 = await newVersion(chat, "0.2.0");
    await writeMetadata(chat, host, { "0.1.0": v1, "0.2.0": v2 });
    assertEquals(await startPackage(chat, a2.port, () => {}), 0);
    assertEquals(await publishCli(["-p", String(a2.port), "-u", host.url("/chat.json"), chat]), 0);
    await waitFor("user.dev to run 0.2.0", async () => {
      const mine = (await cc.get("installed")).json as unknown as { version_hash: string }[];
      return mine[0]?.version_hash === v2;
    }, 180_000);
    const code = await Deno.readTextFile(`${c.opts.home}/vfs/${CHAT}/pkg/chat.js`);
    assert(code.includes("chat 0.2.0"), "user.dev's chat runs 0.2.0's code");
    await waitFor("chat 0.2.0 running", () => c.kernel.processes.has(CHAT_PROCESS));

    // 0.3.0 asks for more: user.dev asks its owner again, and keeps 0.2.0 until then.
    const v3 = await newVersion(chat, "0.3.0", ["http-client:distro:sys"]);
    await writeMetadata(chat, host, { "0.1.0": v1, "0.2.0": v2, "0.3.0": v3 });
    assertEquals(await startPackage(chat, a2.port, () => {}), 0);
    assertEquals(await publishCli(["-p", String(a2.port), "-u", host.url("/chat.json"), chat]), 0);
    let pending: { version_hash: string; new_requests: string[] } | null = null;
    await waitFor("user.dev to ask about 0.3.0", async () => {
      const mine = (await cc.get("installed")).json as unknown as { pending: typeof pending }[];
      pending = mine[0]?.pending ?? null;
      return pending?.version_hash === v3;
    }, 180_000);
    assertEquals(pending!.new_requests, ["chat: messages http-client:distro:sys"]);
    const still = (await cc.get("installed")).json as unknown as { version_hash: string }[];
    assertEquals(still[0].version_hash, v2);
    await page.reload();
    await page.waitForSelector(`[data-app="${CHAT}"] .update`);
    assertMatch(await page.textContent(`[data-app="${CHAT}"]`) ?? "", /asks for more: chat: messages http-client/);
  } finally {
    await browser.close();
    await host.close();
    await net.close().catch(() => {});
    await Deno.remove(chat.replace(/\/chat$/, ""), { recursive: true }).catch(() => {});
  }
});
