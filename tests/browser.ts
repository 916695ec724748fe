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

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}
