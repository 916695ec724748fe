/**
 * Apps cannot reach past their rights through the owner's browser (headless
 * Chromium): a hostile app installed like any other serves a page that, with
 * the owner logged in, tries to install a package asking for root through the
 * node's /rpc, read Kino Files' file list and open its allow-list to
 * everyone; a page on another port of localhost posts to the allow-list, opens
 * Kino Files' WebSocket, and posts wrong passwords to the login form. Each
 * must fail, and the owner's own login and Kino Files keep working.
 */
import type { Browser, Page } from "playwright-core";
import { sharedChromium } from "./browser.ts";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNode, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { encodeBase64 } from "../runtime/bytes.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import { FIXTURES } from "./helpers.ts";
import { logIn } from "./http_helpers.ts";
import { FT, FT_PKG, putFile } from "./ft_helpers.ts";

const PASSWORD = "correct horse";
const ATTACKER = "page:web-attacker:test.os";

/** Installs the package in `dir` as `hyperdeno start-package` does: its pkg/ files POSTed to the node's /rpc. */
async function installOverHttp(n: TestNode, dir: string) {
  const { packageId } = await buildPackage(dir, { onlyIfStale: true });
  const files = Object.fromEntries(Object.entries(readPkgDir(`${dir}/pkg`)).map(([k, v]) => [k, encodeBase64(v)]));
  const r = await fetch(`http://127.0.0.1:${n.port}/rpc:distro:sys/install`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ package_id: packageId, files }),
  });
  assertEquals(r.status, 200, await r.text());
}

/** A node with Kino Files (holding a private file) and the hostile app, and Chromium. */
async function withVictim(f: (n: TestNode, browser: Browser) => Promise<void>) {
  const n = await bootNode({ password: PASSWORD });
  const browser = await sharedChromium();
  try {
    await install(n, FT_PKG);
    await installOverHttp(n, `${FIXTURES}web_attacker`);
    await waitFor(
      "the apps' bindings",
      () => n.http.bindings.has(`/${ATTACKER}`) && n.http.wsBindings.has(`/${FT}/ws`),
      60_000,
    );
    await putFile(n, "secret-plans.txt", new TextEncoder().encode("the owner's"));
    await f(n, browser);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
}

/** The owner, logged in on the node's own page. */
async function ownerPage(browser: Browser, n: TestNode): Promise<Page> {
  const base = `http://localhost:${n.port}`;
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/login`);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
  return page;
}

/** Who may push to Kino Files, asked as a script with the owner's cookie. */
async function pushAllowed(n: TestNode): Promise<string[]> {
  const cookie = await logIn(`http://127.0.0.1:${n.port}`, PASSWORD);
  const r = await fetch(`http://127.0.0.1:${n.port}/${FT}/api/allow`, { headers: { cookie } });
  return (await r.json()).allow.push;
}

/** A page served from another port of localhost: the same site as the node, another origin. */
function foreignSite(html: string): { url: string; close: () => Promise<void> } {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(html, { headers: { "content-type": "text/html" } }),
  );
  return { url: `http://localhost:${server.addr.port}/`, close: () => server.shutdown() };
}

Deno.test({
  name: "origins browser: an app's page cannot install a root package, read Kino Files or open its allow-list",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withVictim(async (n, browser) => {
      const page = await ownerPage(browser, n);
      // The owner has Kino Files open (its origin holds a session), then opens the hostile app.
      await page.goto(`http://localhost:${n.port}/${FT}/`);
      await page.locator(`#mine .file[data-name="secret-plans.txt"]`).waitFor({ timeout: 30_000 });
      await page.goto(`http://localhost:${n.port}/${ATTACKER}/?ft=${appLabel(FT)}`);
      await page.waitForSelector("body[data-done='1']", { timeout: 60_000 });
      const results = JSON.parse(await page.textContent("#results") ?? "[]") as {
        what: string;
        url: string;
        status?: number;
        text?: string;
      }[];
      assertEquals(results.length, 20, "every attempt was made");

      // Nothing was installed: no package, and its code never ran.
      for (const r of results.filter((r) => r.what.startsWith("install"))) {
        assert(r.status !== 200, `install through ${r.url || "its own origin"} answered ${r.status}: ${r.text}`);
      }
      await new Promise((r) => setTimeout(r, 500));
      assert(!n.lines.some((l) => /PWNED|pwned:test\.os/.test(l)), "the root package was installed");
      await Deno.stat(`${n.opts.home}/vfs/pwned:test.os`).then(
        () => assert(false, "the root package's drive exists"),
        () => {},
      );
      // Kino Files' list was not read, nor its allow-list changed.
      for (const r of results.filter((r) => r.what === "files")) {
        assert(!r.text?.includes("secret-plans"), `${r.url || "its own origin"} gave the page Kino Files' list`);
      }
      assertEquals(await pushAllowed(n), []);
      // The hostile page ran on its own origin.
      assertEquals(new URL(page.url()).host, `${appLabel(ATTACKER)}.localhost:${n.port}`);
      // Chromium holds each session host-only on its own host: the node's on localhost, Kino Files' on its origin
      // for its paths; the hostile origin got none. The device cookie goes only to the node's /login.
      const cookies = await page.context().cookies();
      const where = cookies.map((c) => `${c.name} ${c.domain} ${c.path}`).sort();
      assertEquals(where, [
        `hyperware-app_fake.dev ${appLabel(FT)}.localhost /${FT}`,
        "hyperware-auth_fake.dev localhost /",
        "hyperware-device_fake.dev localhost /login",
      ]);
      assert(!cookies.some((c) => c.domain.startsWith(".")), "no cookie is shared with subdomains");
      // The owner's own use of Kino Files is untouched: its page lists the file, on Kino Files' origin.
      await page.goto(`http://localhost:${n.port}/${FT}/`);
      assertEquals(new URL(page.url()).host, `${appLabel(FT)}.localhost:${n.port}`);
      await page.locator(`#mine .file[data-name="secret-plans.txt"]`).waitFor({ timeout: 30_000 });
    });
  },
});

Deno.test({
  name: "origins browser: a page on another localhost port cannot post to Kino Files' allow-list or open its socket",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withVictim(async (n, browser) => {
      const page = await ownerPage(browser, n);
      const target = `http://localhost:${n.port}/${FT}`;
      const allow = JSON.stringify({ node: "*", action: "push", allow: true });
      const foreign = foreignSite(`<!DOCTYPE html><body><script>
        (async () => {
          const out = [];
          await fetch(${JSON.stringify(`${target}/api/allow`)}, {
            method: "POST", mode: "no-cors", credentials: "include", body: ${JSON.stringify(allow)},
          }).then((r) => out.push("fetch " + r.type), (e) => out.push("fetch " + e));
          const ws = new WebSocket(${JSON.stringify(`${target.replace("http:", "ws:")}/ws`)});
          out.push(await new Promise((res) => { ws.onopen = () => res("ws open"); ws.onerror = () => res("ws refused"); }));
          document.body.dataset.out = JSON.stringify(out);
        })();
      </script></body>`);
      try {
        await page.goto(foreign.url);
        await page.waitForSelector("body[data-out]", { state: "attached", timeout: 30_000 });
        const out = JSON.parse(await page.getAttribute("body", "data-out") ?? "[]");
        assertEquals(await pushAllowed(n), [], "a foreign page opened the allow-list");
        assertEquals(out[1], "ws refused", "a foreign page opened Kino Files' WebSocket with the owner's cookie");
      } finally {
        await foreign.close();
      }
      // The same request as a script would forge it: the owner's cookie, a foreign Origin, text/plain.
      const cookie = await logIn(`http://127.0.0.1:${n.port}`, PASSWORD);
      const forged = await fetch(`http://127.0.0.1:${n.port}/${FT}/api/allow`, {
        method: "POST",
        headers: {
          cookie,
          origin: "http://evil.example",
          "sec-fetch-site": "cross-site",
          "content-type": "text/plain",
        },
        body: allow,
      });
      assertEquals(forged.status, 403);
      assertMatch((await forged.json()).error, /cross-site request refused/);
      assertEquals(await pushAllowed(n), []);
      // Without the forged headers, a script with the cookie is the owner: it may.
      const script = await fetch(`http://127.0.0.1:${n.port}/${FT}/api/allow`, {
        method: "POST",
        headers: { cookie },
        body: allow,
      });
      assertEquals(script.status, 200);
      await script.body?.cancel();
      assertEquals(await pushAllowed(n), ["*"]);
    });
  },
});

Deno.test({
  name: "origins browser: a foreign page's wrong passwords do not delay the owner's login",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withVictim(async (n, browser) => {
      const login = `http://localhost:${n.port}/login`;
      // A page on another port, left open in a tab, posts the login form wrong again and again.
      const foreign = foreignSite(`<!DOCTYPE html><body><script>
        (async () => {
          for (let n = 1; n < 100_000; n++) {
            await fetch(${JSON.stringify(login)}, {
              method: "POST", mode: "no-cors", credentials: "include",
              body: new URLSearchParams({ password: "guess" + n, redirect: "/" }),
            }).catch(() => {});
            document.body.dataset.tries = String(n);
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
      </script></body>`);
      try {
        const attacker = await (await browser.newContext()).newPage();
        await attacker.goto(foreign.url);
        await attacker.waitForFunction("Number(document.body.dataset.tries) >= 20", undefined, { timeout: 30_000 });
        // The owner logs in at once, from the node's own page, while that page goes on.
        const page = await (await browser.newContext()).newPage();
        await page.goto(login);
        await page.fill("#password", PASSWORD);
        await Promise.all([page.waitForEvent("load"), page.click("button[type=submit]")]);
        const error = await page.locator(".error").textContent({ timeout: 1000 }).catch(() => null);
        assertEquals(page.url(), `http://localhost:${n.port}/`, `the owner's login was answered: ${error}`);
        assertMatch(await page.textContent("header h1") ?? "", /fake\.dev/);
        assert(Number(await attacker.evaluate("document.body.dataset.tries")) > 20, "the foreign page kept trying");
        await attacker.close();
      } finally {
        await foreign.close();
      }
    });
  },
});

Deno.test({
  name:
    "origins browser: an app's answer on the node's host cannot set cookies there (session overwritten, cookie bomb)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withVictim(async (n, browser) => {
      const page = await ownerPage(browser, n);
      const session = (await page.context().cookies()).find((c) => c.name === "hyperware-auth_fake.dev")!;
      // The app's page submits a form to its own path on the node's host: a top-level POST, whose answer's cookies
      // Chromium stores for localhost (every port's).
      await page.goto(`http://localhost:${n.port}/${ATTACKER}/toss.html`);
      await page.waitForURL(`http://localhost:${n.port}/${ATTACKER}/toss`, { timeout: 30_000 });
      // The owner's home page answers (over 16 KiB of cookies would make every request to localhost a 431)...
      const home = await page.goto(`http://localhost:${n.port}/`);
      assertEquals(home?.status(), 200);
      assertMatch(await page.textContent("header h1") ?? "", /fake\.dev/);
      // ... with the session it had: the app set no cookie on the node's host.
      const onNode = (await page.context().cookies()).filter((c) => c.domain === "localhost" && c.path === "/");
      assertEquals(onNode.map((c) => `${c.name}=${c.value.slice(0, 40)}`), [
        `${session.name}=${session.value.slice(0, 40)}`,
      ]);
    });
  },
});
