/**
 * The App Store's Publish view in a real browser (headless Chromium, a wallet injected as MetaMask injects one): the
 * owner of a fake node's name connects the wallet, checks the hosted metadata, publishes (the wallet sends the mint
 * through the node's account), and the page says it is listed once chain:app-store:sys verified it; unpublish
 * takes it away; a wallet that owns neither the entry nor the publisher's name is told so and offered nothing to send.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "./browser.ts";
import { assertEquals, assertMatch } from "./assert.ts";
import { bootNode, injectJson, removeHome, startChain, waitFor } from "../runtime/testing.ts";
import { injectWallet } from "./register_helpers.ts";
import { installStore } from "./appstore_helpers.ts";
import { makePackage, metadataServer } from "./appstore_chain_helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import { addressOf, devOwnerKey, fund } from "../chain/dev_owner.ts";
import type { OnchainApp } from "../packages/app-store/api/chain.ts";
import { generatePrivateKey } from "viem/accounts";

const MAIN = "main:app-store:sys";

/** Logs in on the node and opens the App Store's Publish view on the app's origin. */
async function publishView(context: BrowserContext, port: number): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`http://localhost:${port}/login?redirect=${encodeURIComponent(`/${MAIN}/`)}`);
  await page.fill("#password", "secret");
  const base = `http://${appLabel(MAIN)}.localhost:${port}/${MAIN}/`;
  await Promise.all([page.waitForURL(base), page.click("button[type=submit]")]);
  await page.goto(`${base}#/publish`);
  await page.waitForSelector("#connect");
  return page;
}

Deno.test("app store publish view: the wallet publishes and unpublishes; a wallet that is not the owner is told", async () => {
  const chain = await startChain();
  const files = metadataServer();
  const root = await Deno.makeTempDir({ prefix: "hyperdeno-appstore-publish-" });
  const node = await bootNode({ name: "pub.dev", network: { chainPort: chain.port, pollMs: 100 } });
  let browser: Browser | null = null;
  try {
    await installStore(node);
    const hello = await makePackage(root, "hello", "pub.dev");
    files.files.set("/hello.json", hello.metadata);
    browser = await launchChromium();

    // The name's owner is the node's own dev-chain account: its key in the wallet.
    const owner = devOwnerKey(node.net!.opts.keys.secretKey);
    await fund(chain.client, addressOf(owner));
    const ownerContext = await browser.newContext();
    await injectWallet(ownerContext, chain.url, owner);
    const page = await publishView(ownerContext, node.port);
    await page.click("#connect");
    await page.waitForSelector(`#account:has-text("${addressOf(owner)}")`);
    await page.fill("#metadata-uri", files.url("/hello.json"));
    await page.click("#check");
    await page.waitForSelector("#plan:has-text('Publishing mints hello.pub.dev')");
    assertEquals(await page.textContent("#summary-id"), "hello:pub.dev · v0.1.0");
    await page.click("#publish");
    await page.waitForSelector("#status:has-text('Published hello:pub.dev 0.1.0')", { timeout: 90_000 });
    const listed = await injectJson<{ GetApps: OnchainApp[] }>(node, "chain:app-store:sys", "GetApps", 30);
    assertEquals(listed.GetApps.map((a) => a.package_id.package_name), ["hello"]);
    assertEquals(listed.GetApps[0].metadata_uri, files.url("/hello.json"));

    // Checked again, the entry exists: publishing rewrites its notes, and it can be unpublished.
    await page.waitForSelector("#plan:has-text('hello.pub.dev exists')");
    page.on("dialog", (d) => d.accept());
    await page.click("#unpublish");
    await page.waitForSelector("#status:has-text('Unpublished hello:pub.dev')", { timeout: 90_000 });
    await waitFor("the chain process to drop hello", async () => {
      const r = await injectJson<{ GetApps: OnchainApp[] }>(node, "chain:app-store:sys", "GetApps", 30);
      return r.GetApps.length === 0;
    }, 30_000);

    // A wallet that owns nothing here: the page says so and offers nothing to send.
    const strangerContext = await browser.newContext();
    await injectWallet(strangerContext, chain.url, generatePrivateKey());
    const other = await publishView(strangerContext, node.port);
    await other.click("#connect");
    await other.fill("#metadata-uri", files.url("/hello.json"));
    await other.click("#check");
    await other.waitForSelector("#plan.error");
    assertMatch(
      (await other.textContent("#plan"))!,
      /^hello\.pub\.dev is owned by 0x[0-9a-fA-F]{40}, not by this wallet$/,
    );
    assertEquals(await other.isDisabled("#publish"), true);
    const fresh = await makePackage(root, "fresh", "pub.dev");
    files.files.set("/fresh.json", fresh.metadata);
    await other.fill("#metadata-uri", files.url("/fresh.json"));
    await other.click("#check");
    await waitFor(
      "the plan for fresh",
      async () => /not the owner of the publisher name pub\.dev/.test((await other.textContent("#plan")) ?? ""),
    );
    assertEquals(await other.isDisabled("#publish"), true);
    await other.fill("#metadata-uri", files.url("/missing.json"));
    await other.click("#check");
    await other.waitForSelector("#status.error");
    assertMatch((await other.textContent("#status"))!, /answered HTTP 404/);
  } finally {
    await browser?.close();
    await node.shutdown();
    await removeHome(node);
    await files.close();
    await chain.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
