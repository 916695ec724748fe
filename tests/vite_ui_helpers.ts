/**
 * The chat templates' UIs in tests. The Vite chat template (`new --ui`) is installed from the npm registry and
 * built once per test run: the first caller's `build` runs the real `npm ci` and `npm run build`; the other tests
 * copy that package, ui/node_modules included, so their builds skip the install. And two nodes running a chat
 * package, with a browser that logs in and chats from its page.
 */
import type { Browser } from "playwright-core";
import { sharedChromium } from "./browser.ts";
import { assertEquals } from "./assert.ts";
import { cli, freePort, NodeProcess, RUN_FLAGS } from "./cli_helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";

export interface ViteChat {
  /** The package folder. */
  pkg: string;
  /** What its first `build` (npm ci, npm run build, bundling) said. */
  build: { code: number; out: string; err: string };
}

let installed: Promise<ViteChat> | null = null;

export function viteChat(): Promise<ViteChat> {
  installed ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "hyperdeno-vite-ui-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const pkg = `${dir}/vite-chat`;
    const made = await cli("new", pkg, "--ui");
    if (made.code !== 0) throw new Error(made.err);
    return { pkg, build: await cli("build", pkg) };
  })();
  return installed;
}

/** A copy of the installed, built package at `to` (same package id), for a test to change. */
export async function copyViteChat(to: string): Promise<string> {
  const { pkg, build } = await viteChat();
  if (build.code !== 0) throw new Error(`the Vite chat did not build:\n${build.out}${build.err}`);
  const cp = await new Deno.Command("cp", { args: ["-a", pkg, to] }).output();
  if (!cp.success) throw new Error(new TextDecoder().decode(cp.stderr));
  return to;
}

/** The CLI with extra environment (npm reads its settings from npm_config_* variables). */
export async function cliWithEnv(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [...RUN_FLAGS, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

/** Two nodes with the package at `pkg` started on both; `use` gets the first node's port and the nodes. */
export async function withTwoNodes(
  dir: string,
  pkg: string,
  use: (p1: number, nodes: NodeProcess[], browser: Browser) => Promise<void>,
) {
  const [p1, p2, chain] = [freePort(), freePort(), freePort()];
  const n1 = new NodeProcess(["-p", String(p1), "-c", String(chain), "-o", `${dir}/n1`]);
  const n2 = new NodeProcess(["-p", String(p2), "-c", String(chain), "-o", `${dir}/n2`, "-f", "fake2"]);
  const browser = await sharedChromium();
  try {
    await n1.waitFor(/fake\.dev: node ready/, 120_000);
    await n2.waitFor(/fake2\.dev: node ready/, 120_000);
    for (const p of [p1, p2]) {
      const started = await cli("start-package", pkg, "-p", String(p));
      assertEquals(started.code, 0, started.err);
    }
    await use(p1, [n1, n2], browser);
  } finally {
    n1.kill("SIGINT");
    n2.kill("SIGINT");
    await n1.exited();
    await n2.exited();
  }
}

/** Logs the browser in on the node at `port`, which leads it to `app`'s page on the app's origin. */
export async function logIn(browser: Browser, port: number, app: string) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`http://localhost:${port}/login?redirect=${encodeURIComponent(`/${app}/`)}`);
  await page.fill("#password", "secret");
  const appBase = `http://${appLabel(app as `${string}:${string}:${string}`)}.localhost:${port}`;
  await Promise.all([page.waitForURL(`${appBase}/${app}/`), page.click("button[type=submit]")]);
  return page;
}

/** On the chat's page: sends to fake2.dev from the form; fake2.dev prints it; the page lists the conversation. */
export async function chatFromPage(page: Awaited<ReturnType<typeof logIn>>, n2: NodeProcess, text: string) {
  await page.waitForSelector("#our:has-text('fake.dev')");
  await page.fill("#target", "fake2.dev");
  await page.fill("#message", text);
  await page.click("#send button");
  await page.waitForSelector("text=sent");
  await n2.waitFor(new RegExp(`fake\\.dev: ${text}`));
  await page.waitForSelector("article h2:has-text('fake2.dev')");
  assertEquals(await page.textContent("article li"), `fake.dev: ${text}`);
}
