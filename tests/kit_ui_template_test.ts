/**
 * `hyperdeno new --ui`: the chat with a web UI, built and started as a user
 * would, used in a real browser (headless Chromium): log in, open the app's
 * page, send a message to the other node from the form, and see it listed.
 */
import { launchChromium } from "./browser.ts";
import { assertEquals, assertMatch } from "./assert.ts";
import { cli, freePort, NodeProcess } from "./cli_helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";

Deno.test({
  name: "the chat --ui template: its page sends a message to another node and lists the conversation",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-ui-" });
    const [p1, p2, chain] = [freePort(), freePort(), freePort()];
    const n1 = new NodeProcess(["-p", String(p1), "-c", String(chain), "-o", `${dir}/n1`]);
    const n2 = new NodeProcess(["-p", String(p2), "-c", String(chain), "-o", `${dir}/n2`, "-f", "fake2"]);
    const browser = await launchChromium();
    try {
      assertEquals((await cli("new", `${dir}/ui-chat`, "--ui")).code, 0);
      const built = await cli("build", `${dir}/ui-chat`);
      assertEquals(built.code, 0, built.err);
      assertMatch(built.out, /bundled pkg\/send\.js, pkg\/ui-chat\.js; API pkg\/api\/ \(1 files\); UI pkg\/ui\//);
      await n1.waitFor(/fake\.dev: node ready/);
      await n2.waitFor(/fake2\.dev: node ready/);
      for (const p of [p1, p2]) assertEquals((await cli("start-package", `${dir}/ui-chat`, "-p", String(p))).code, 0);

      const base = `http://localhost:${p1}`;
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${base}/login?redirect=%2Fui-chat%3Aui-chat%3Atemplate.os%2F`);
      await page.fill("#password", "secret");
      const app = "ui-chat:ui-chat:template.os";
      const appBase = `http://${appLabel(app)}.localhost:${p1}`;
      await Promise.all([page.waitForURL(`${appBase}/${app}/`), page.click("button[type=submit]")]);
      assertEquals(await page.textContent("#our"), "fake.dev");
      await page.fill("#target", "fake2.dev");
      await page.fill("#message", "hello from a browser");
      await page.click("#send button");
      await page.waitForSelector("text=sent");
      await n2.waitFor(/fake\.dev: hello from a browser/);
      await page.waitForSelector("article h2:has-text('fake2.dev')");
      assertEquals(await page.textContent("article li"), "fake.dev: hello from a browser");
    } finally {
      await browser.close();
      n1.kill("SIGINT");
      n2.kill("SIGINT");
      await n1.exited();
      await n2.exited();
    }
    await Deno.remove(dir, { recursive: true });
  },
});
