/**
 * The web side in a real browser: headless Chromium (the Debian package)
 * driven by playwright-core logs in with the node's password, sees the home
 * page with the app's tile and widget, opens the app's UI (served by
 * serveUi from its pkg drive), and receives a WebSocket push in the page.
 */
import { launchChromium } from "./browser.ts";
import { assertEquals, assertMatch } from "./assert.ts";
import { bootNode, install, removeHome, waitFor } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";

const APP = "web:http-app:test.os";
Deno.test({
  name: "http browser: log in, see the home page, open the app's UI and receive a WebSocket push in the page",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const n = await bootNode({ password: "correct horse" });
    const browser = await launchChromium();
    try {
      await install(n, `${FIXTURES}http_app`);
      await waitFor("the app's bindings", () => n.http.wsBindings.has(`/${APP}/ws`));
      const base = `http://localhost:${n.port}`;
      const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();

      // Not logged in: the home page sends the browser to /login.
      await page.goto(`${base}/`);
      assertMatch(page.url(), /\/login\?redirect=%2F$/);
      await page.fill("#password", "wrong");
      await page.click("button[type=submit]");
      assertMatch(await page.textContent(".error") ?? "", /Wrong password/);
      await new Promise((r) => setTimeout(r, 600)); // the throttle's first wait
      await page.fill("#password", "correct horse");
      await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);

      // The home page: the node's name, the app's tile and its widget, on a phone-sized window.
      assertMatch(await page.textContent("header h1") ?? "", /fake\.dev/);
      const tile = page.locator(".app", { hasText: "HTTP App" });
      assertEquals(await tile.count(), 1);
      assertEquals(await tile.getAttribute("href"), `/${APP}/`);
      const widget = page.frameLocator(".widget iframe");
      assertEquals(await widget.locator("p").textContent(), "HTTP App widget");
      const overflow = await page.evaluate("document.documentElement.scrollWidth > innerWidth");
      assertEquals(overflow, false, "the home page fits a phone's width");

      // The app's UI, from its pkg drive: index.html, its stylesheet and script, /our.js, on the app's own origin.
      const appBase = `http://${appLabel(APP)}.localhost:${n.port}`;
      await Promise.all([page.waitForURL(`${appBase}/${APP}/`), tile.click()]);
      assertEquals(await page.textContent("h1"), "HTTP App");
      assertEquals(await page.textContent("#node"), "fake.dev");
      const font = await page.evaluate<string>("getComputedStyle(document.body).fontFamily");
      assertMatch(font, /system-ui/);
      await page.waitForFunction(`document.getElementById("status")?.textContent === "open"`);
      await page.waitForFunction(`document.querySelector(".push")?.textContent === "welcome"`);

      // A push from the process, started by an API call made with the browser's own session.
      const pushed = await page.evaluate(async (app) => {
        const r = await fetch(`/${app}/api/push`, { method: "POST", body: "from the process" });
        return (await r.json()).pushed;
      }, APP);
      assertEquals(pushed, 1);
      await page.waitForFunction(
        `[...document.querySelectorAll(".push")].some((e) => e.textContent === "from the process")`,
      );

      // Logging out closes the door again, on the app's origin too.
      await page.goto(`${base}/`);
      await Promise.all([page.waitForURL(/\/login/), page.click("header button")]);
      await page.goto(`${appBase}/${APP}/`);
      assertMatch(page.url(), new RegExp(`^${base}/login\\?redirect=`));
    } finally {
      await browser.close();
      await n.shutdown();
      await removeHome(n);
    }
  },
});
