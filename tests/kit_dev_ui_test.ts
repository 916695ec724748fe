/**
 * `hyperdeno dev-ui`: Vite's dev server for the --ui template's UI, proxied to a running node, in headless
 * Chromium. Opened on the app's origin at the dev server's port, the page (served by Vite, hot reloading) asks
 * the browser to log in through the node, then reaches the process's API through the proxy with the app's own
 * session and chats with another node; an edit of ui/src shows without a reload; stopping dev-ui stops Vite.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { freePort, PipedProcess, RUN_FLAGS } from "./cli_helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import { chatFromPage, copyViteChat, logIn, withTwoNodes } from "./vite_ui_helpers.ts";

async function listening(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "dev-ui: the Vite dev server's page logs in through the node, chats through its proxy, and hot reloads",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-dev-ui-" });
    const pkg = await copyViteChat(`${dir}/vite-chat`);
    const app = "vite-chat:vite-chat:template.os";
    await withTwoNodes(dir, pkg, async (p1, [, n2], browser) => {
      const uiPort = freePort();
      const dev = new PipedProcess(Deno.execPath(), [
        ...RUN_FLAGS,
        "dev-ui",
        pkg,
        "-p",
        String(p1),
        "--ui-port",
        String(uiPort),
      ]);
      try {
        const devUrl = `http://${appLabel(app)}.localhost:${uiPort}/${app}/`;
        const opened = await dev.waitFor(/dev-ui: open (\S+) \(proxied to the node at (\S+)\)/, 60_000);
        assertEquals([opened[1], opened[2]], [devUrl, `http://localhost:${p1}`]);
        await dev.waitFor(/ready in/, 120_000);

        // Before logging in: Vite's page, whose API call the node answers 401 through the proxy.
        const fresh = await (await browser.newContext()).newPage();
        await fresh.goto(devUrl);
        assert(await fresh.$("script[src*='@vite/client']"), "the page is the dev server's");
        await fresh.waitForSelector("#login a", { timeout: 60_000 });
        assertEquals(await fresh.getAttribute("#login a", "href"), `http://localhost:${p1}/${app}/`);

        // Logging in through the node gives the app's origin its cookie, which the dev server's port shares.
        const page = await logIn(browser, p1, app);
        await page.goto(devUrl);
        assert(await page.$("script[src*='@vite/client']"), "the page is the dev server's");
        await chatFromPage(page, n2, "hello through Vite");

        // Hot reloading: an edit of the source shows on the open page, which keeps its state (no reload).
        const source = `${pkg}/ui/src/App.tsx`;
        await Deno.writeTextFile(
          source,
          (await Deno.readTextFile(source)).replace("<button>Send</button>", "<button>Send it</button>"),
        );
        await page.waitForSelector("#send button:has-text('Send it')", { timeout: 60_000 });
        assertEquals(await page.textContent("article li"), "fake.dev: hello through Vite");
      } finally {
        const status = await dev.stop();
        assertEquals(status.code, 0, dev.output);
      }
      // Vite went with it: its port is free (it would stay listening if npm's child were left behind).
      const until = Date.now() + 30_000;
      while (await listening(uiPort) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      assert(!(await listening(uiPort)), `Vite still listens on ${uiPort} after dev-ui stopped`);
    });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("dev-ui refuses a package without ui/package.json, saying what to do in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-dev-ui-plain-" });
  const made = new PipedProcess(Deno.execPath(), [...RUN_FLAGS, "new", `${dir}/plain`, "--plain-ui"]);
  assertEquals((await made.exited()).code, 0);
  const dev = new PipedProcess(Deno.execPath(), [...RUN_FLAGS, "dev-ui", `${dir}/plain`]);
  assertEquals((await dev.exited()).code, 2);
  assertMatch(dev.output, /has no ui\/package\.json: dev-ui serves a Vite UI, as `hyperdeno new --ui` makes/);
  assertEquals(dev.output.trim().split("\n").length, 1, dev.output);
  await Deno.remove(dir, { recursive: true });
});
