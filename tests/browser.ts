/**
 * Headless Debian Chromium driven by playwright-core, for the browser tests.
 *
 * playwright-core asks at load time whether it runs under WSL by testing
 * /proc paths, which Deno allows only with --allow-all, and the tests run with
 * the node's own flags. Its own test switch, set before it loads, skips that
 * check; only its `open` helper, unused here, reads the answer.
 */
import type { Browser } from "playwright-core";

Deno.env.set("__IS_WSL_TEST__", "1");
const { chromium } = await import("playwright-core");

export const CHROMIUM = "/usr/bin/chromium";

/** The flags a root user's headless Chromium needs on a machine with no outside network. */
const ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * Playwright's waits (30 s unless told) are bounds for hangs here: a page that updates in a second on a quiet machine
 * took over 30 s at a load average of 40. Every context (and page) of the browser waits up to this unless told.
 */
const WAIT_MS = 120_000;

/** Where this test process's browsers keep their profiles, removed when the process ends. */
const profileRoots: string[] = [];
addEventListener("unload", () => {
  for (const root of profileRoots) {
    try {
      Deno.removeSync(root, { recursive: true });
    } catch { /* a browser still writing there: its files stay in the system's temporary folder */ }
  }
});

/**
 * Playwright makes a browser's profile and artifacts folders in the temporary folder and removes them when the browser
 * is closed; a shared browser ends with its test process unclosed, which left ~6 of them (each several MiB) behind per
 * suite run. So they are made in a folder of this process's own (the temporary folder is TMPDIR while the browser
 * starts), which goes at unload.
 */
async function launchInOwnTmp(): Promise<Browser> {
  const root = Deno.makeTempDirSync({ prefix: "hyperdeno-chromium-" });
  profileRoots.push(root);
  const before = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", root);
  try {
    return await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  } finally {
    if (before === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", before);
  }
}

export async function launchChromium(): Promise<Browser> {
  const browser = await launchInOwnTmp();
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.setDefaultTimeout(WAIT_MS);
    context.setDefaultNavigationTimeout(WAIT_MS);
    return context;
  };
  return browser;
}

let shared: Promise<Browser> | null = null;

/**
 * One Chromium for all of a test file's tests (a launch costs about a second of CPU), launched at the first call;
 * each test opens its pages in contexts of its own, so no cookie passes between tests. It ends with the file's
 * process (its pipe to playwright closes), so tests that use it turn the resource sanitizer off and never close it.
 */
export function sharedChromium(): Promise<Browser> {
  shared ??= launchChromium();
  return shared;
}
