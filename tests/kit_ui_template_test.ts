/**
 * `hyperdeno new --ui` (the book's Vite + React + TypeScript UI, built by `build` with npm) and `--plain-ui`
 * (static files): each built and started as a user would, used in a real browser (headless Chromium): log in,
 * open the app's page on its own origin, send a message to the other node from the form, and see it listed.
 * And the Vite UI's build: hashed assets, type errors, and building with the npm registry unreachable.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli } from "./cli_helpers.ts";
import { exists } from "../runtime/fs.ts";
import { chatFromPage, cliWithEnv, copyViteChat, logIn, viteChat, withTwoNodes } from "./vite_ui_helpers.ts";

Deno.test({
  name: "the chat --plain-ui template: its static page sends a message to another node and lists the conversation",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-ui-" });
    assertEquals((await cli("new", `${dir}/ui-chat`, "--plain-ui")).code, 0);
    assert(!exists(`${dir}/ui-chat/ui/package.json`), "the plain UI has nothing to install");
    const built = await cli("build", `${dir}/ui-chat`);
    assertEquals(built.code, 0, built.err);
    assertMatch(built.out, /bundled pkg\/send\.js, pkg\/ui-chat\.js; API pkg\/api\/ \(1 files\); UI pkg\/ui\//);
    await withTwoNodes(dir, `${dir}/ui-chat`, async (p1, [, n2], browser) => {
      const page = await logIn(browser, p1, "ui-chat:ui-chat:template.os");
      await chatFromPage(page, n2, "hello from a browser");
    });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "the chat --ui template: npm ci and vite build make pkg/ui with hashed assets; the page chats in a browser",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { pkg, build } = await viteChat();
    assertEquals(build.code, 0, `${build.out}${build.err}`);
    // One line per step, then the summary.
    assertMatch(
      build.out,
      /^ui: npm ci \(ui\/node_modules from package-lock\.json\)\nui: npm run build \(ui\/dist\/\)\n/,
    );
    assertMatch(
      build.out,
      /bundled pkg\/send\.js, pkg\/vite-chat\.js; API pkg\/api\/ \(1 files\); UI pkg\/ui\/ \(from ui\/dist\/\)/,
    );
    const html = await Deno.readTextFile(`${pkg}/pkg/ui/index.html`);
    const app = "vite-chat:vite-chat:template.os";
    const script = html.match(new RegExp(`src="/${app}/(assets/index-[\\w-]{8}\\.js)"`));
    assert(script, `pkg/ui/index.html loads a hashed bundle under the process path:\n${html}`);
    assert(exists(`${pkg}/pkg/ui/${script[1]}`), `${script[1]} is in pkg/ui`);
    assertMatch(html, /<script src="\/our\.js"/);
    for (const absent of ["src", "node_modules", "package.json"]) {
      assert(!exists(`${pkg}/pkg/ui/${absent}`), `pkg/ui holds the build only, not ui/${absent}`);
    }

    const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-vite-" });
    await withTwoNodes(dir, pkg, async (p1, [, n2], browser) => {
      const page = await logIn(browser, p1, app);
      assert(await page.$("#root main"), "React rendered the page");
      await chatFromPage(page, n2, "hello from React");
    });
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("the --ui template's build: a type error in ui/src fails the build with tsc's message and one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-vite-tsc-" });
  const pkg = await copyViteChat(`${dir}/vite-chat`);
  const app = `${pkg}/ui/src/App.tsx`;
  await Deno.writeTextFile(app, `${await Deno.readTextFile(app)}\nexport const wrong: number = "a string";\n`);
  const r = await cli("build", pkg);
  assertEquals(r.code, 1);
  assertMatch(r.err, /src\/App\.tsx\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'\./);
  assertMatch(r.err, /ui: npm run build failed \(its errors above\): fix ui\/ and build again\n$/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the --ui template's build offline: an install matching the lockfile is kept; else the UI built before", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-vite-offline-" });
  const pkg = await copyViteChat(`${dir}/vite-chat`);
  // A registry nothing answers at, and an npm cache of its own that holds nothing: npm can get no package.
  const offline = {
    npm_config_registry: "http://127.0.0.1:9/",
    npm_config_cache: `${dir}/npm-cache`,
    npm_config_fetch_retries: "0",
  };
  await Deno.remove(`${pkg}/pkg/ui`, { recursive: true });
  const kept = await cliWithEnv(offline, "build", pkg);
  assertEquals(kept.code, 0, kept.err);
  assertMatch(
    kept.out,
    /^ui: dependencies up to date \(ui\/node_modules matches package-lock\.json\)\nui: npm run build/,
  );
  assert(exists(`${pkg}/pkg/ui/index.html`), "built from the installed node_modules");

  // The lockfile's package.json changed and nothing is installed: the install needs the registry.
  const manifest = JSON.parse(await Deno.readTextFile(`${pkg}/ui/package.json`));
  await Deno.writeTextFile(`${pkg}/ui/package.json`, JSON.stringify({ ...manifest, description: "changed" }));
  await Deno.remove(`${pkg}/ui/node_modules`, { recursive: true });
  await Deno.remove(`${pkg}/pkg/ui`, { recursive: true });
  const stale = await cliWithEnv(offline, "build", pkg);
  assertEquals(stale.code, 0, stale.err);
  assertMatch(stale.out, /ui: npm cannot reach its registry \(ECONNREFUSED\); using the UI built before, ui\/dist\//);
  assert(exists(`${pkg}/pkg/ui/index.html`), "pkg/ui from ui/dist");

  await Deno.remove(`${pkg}/ui/dist`, { recursive: true });
  const none = await cliWithEnv(offline, "build", pkg);
  assertEquals(none.code, 1);
  assertMatch(
    none.err,
    /ui: npm cannot reach its registry \(ECONNREFUSED\) and no UI was built before \(ui\/dist\/\): connect and build again\n$/,
  );
  await Deno.remove(dir, { recursive: true });
});
