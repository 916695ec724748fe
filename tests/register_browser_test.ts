/**
 * A real node registered in the browser (headless Chromium with a wallet injected as MetaMask injects one, backed
 * by an anvil account), on the dev chain: `boot-real-node`'s pages register a direct name (the open minter: one
 * mint, its notes written by its new account) and an indirect one (routers chosen from chain: the fake node there),
 * each lands on its home page logged in, and `hi` works both ways with a fake node under the new names. Then the
 * same home logs in again with its password, the downloaded keyfile boots the name on an empty home, and the
 * wallet resets the name's networking notes to a new node's key.
 */
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./browser.ts";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNode, startChain, type TestChain, type TestNode, waitFor } from "../runtime/testing.ts";
import type { Node } from "../runtime/boot.ts";
import { getEntry } from "../chain/deploy.ts";
import { namehash } from "../chain/hypermap.ts";
import { toHex } from "../runtime/bytes.ts";
import { readIdentity } from "../register/identity.ts";
import { type Booting, injectWallet, openPages, realNode, WALLET_KEYS } from "./register_helpers.ts";

/** Waits for a printed line of `lines` (from index `from`) matching `re`. */
async function printed(lines: string[], re: RegExp, from = 0, ms = 20_000) {
  await waitFor(`a line matching ${re}`, () => lines.slice(from).some((l) => re.test(l)), ms);
}

/** `from` says hi to `to` and `to` prints it: the link works under both names. */
async function hi(from: Node, fromLines: string[], to: string, toLines: string[]) {
  const text = `hello ${to} from ${from.name} ${Math.random().toString(36).slice(2, 8)}`;
  const mark = fromLines.length;
  from.terminal.command(`hi ${to} ${text}`);
  await printed(fromLines, new RegExp(`hi: ${to.replace(/\./g, "\\.")} got it`), mark, 30_000);
  await printed(toLines, new RegExp(text), 0, 10_000);
}

/** Registers `name` through the pages: wallet, name, routing, the mint, the password; returns the keyfile. */
async function register(page: Page, name: string, opts: { direct: boolean; password: string }): Promise<string> {
  await page.click("#go-register");
  await page.click("#connect");
  await page.fill("#name", name);
  await page.waitForSelector("#name-status.ok", { timeout: 20_000 });
  if (opts.direct) {
    await page.check("#direct");
    await page.fill("#ip", "127.0.0.1");
  } else {
    await waitFor("routers from chain", async () => (await page.inputValue("#routers")).trim() !== "");
  }
  await page.click("#register");
  await page.waitForSelector("#password-step:not([hidden])", { timeout: 60_000 });
  await page.fill("#password", opts.password);
  await page.fill("#password2", opts.password);
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 60_000 }),
    page.click("#set-password"),
  ]);
  const keyfile = await Deno.readTextFile((await download.path())!);
  return keyfile;
}

/** The browser ends on the node's home page, logged in as `name`. */
async function atHome(page: Page, port: number, name: string) {
  await page.waitForURL(`http://localhost:${port}/`, { timeout: 60_000 });
  await page.waitForSelector("header .node", { timeout: 30_000 });
  assertEquals(await page.textContent("header .node"), name);
}

async function chainKey(chain: TestChain, name: string): Promise<string> {
  return (await getEntry(chain.client, namehash(`~net-key.${name}`)))[2];
}

Deno.test("register in the browser: direct and indirect names, hi with a fake node, login, keyfile import, reset", async () => {
  const chain = await startChain();
  const browser: Browser = await launchChromium();
  const relay: TestNode = await bootNode({ name: "relay.dev", network: { chainPort: chain.port, pollMs: 100 } });
  const nodes: Node[] = [];
  const homes: string[] = [];
  const boot = async (b: Booting, page: Page) => {
    let n: Node | null = null;
    b.node.then((x) => n = x, () => {});
    await waitFor("the node to boot from its pages", async () => {
      if (n) return true;
      // isVisible does not wait; textContent would wait for an #error the node's home page (where the pages go
      // once the node boots) never has, for playwright's whole default timeout.
      if (await page.isVisible("#error").catch(() => false)) {
        throw new Error(`the pages say: ${await page.textContent("#error", { timeout: 5_000 }).catch(() => "?")}`);
      }
      return false;
    }, 300_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${b.lines.join("\n")}`);
    });
    n = n!;
    nodes.push(n);
    homes.push(n.opts.home);
    return n;
  };
  const stop = async (n: Node) => {
    await n.shutdown();
    nodes.splice(nodes.indexOf(n), 1);
  };
  try {
    // A direct node, registered with the open minter of the dev chain's .os.
    const ctx = await browser.newContext({ acceptDownloads: true });
    const wallet = await injectWallet(ctx, chain.url, WALLET_KEYS[0]);
    const a = await realNode(chain.url);
    assert(a.lines.includes(`login or register at http://localhost:${a.setup.port}`), a.lines.join("\n"));
    const page = await openPages(ctx, a);
    const keyfile = await register(page, "alice", { direct: true, password: "alice's secret" });
    const alice = await boot(a, page);
    await atHome(page, alice.port, "alice.os");
    assertEquals(alice.name, "alice.os");
    assertEquals((await getEntry(chain.client, namehash("alice.os")))[1], wallet.address);
    assertEquals(await chainKey(chain, "alice.os"), `0x${toHex(alice.net!.opts.keys.publicKey)}`);
    for (const m of ["eth_requestAccounts", "eth_chainId", "eth_sendTransaction", "eth_signTypedData_v4"]) {
      assert(wallet.calls.includes(m), `the page asked the wallet for ${m}: ${wallet.calls.join(", ")}`);
    }
    await waitFor("relay.dev to know alice.os", () => relay.net!.hns.has("alice.os"));
    await hi(relay, relay.lines, "alice.os", a.lines);
    await hi(alice, a.lines, "relay.dev", relay.lines);

    // An indirect node: its routers are chosen from the chain's direct nodes.
    const ctx2 = await browser.newContext({ acceptDownloads: true });
    await injectWallet(ctx2, chain.url, WALLET_KEYS[1]);
    const b = await realNode(chain.url);
    const page2 = await openPages(ctx2, b);
    await register(page2, "bob", { direct: false, password: "bob's secret" });
    const bob = await boot(b, page2);
    await atHome(page2, bob.port, "bob.os");
    const routers = (readIdentity(bob.opts.home)!.routing as { routers: string[] }).routers;
    assert(routers.length > 0 && routers.every((r) => ["relay.dev", "alice.os"].includes(r)), routers.join(","));
    await waitFor("relay.dev to know bob.os", () => relay.net!.hns.has("bob.os"));
    await hi(bob, b.lines, "relay.dev", relay.lines);
    await hi(relay, relay.lines, "bob.os", b.lines);

    // The same home, booted without its password: the login page, a wrong password, then the right one.
    const aliceHome = alice.opts.home;
    await stop(alice);
    const a2 = await realNode(chain.url, { home: aliceHome });
    const login = await openPages(ctx, a2);
    await login.waitForSelector("#login-step:not([hidden])");
    await login.fill("#login-password", "not it");
    await login.click("#login");
    await login.waitForSelector("#error:not([hidden])");
    assertMatch(await login.textContent("#error") ?? "", /wrong password/);
    await login.fill("#login-password", "alice's secret");
    // A wrong password slows the next try (0.5 s): the page says so, and the owner tries again.
    for (let i = 0; i < 20; i++) {
      await login.click("#login");
      await waitFor(
        "the login's answer",
        async () => a2.lines.some((l) => /booting as/.test(l)) || await login.isVisible("#error"),
      );
      if (a2.lines.some((l) => /booting as/.test(l))) break;
      assertMatch(await login.textContent("#error") ?? "", /too many wrong passwords/);
      await new Promise((r) => setTimeout(r, 500));
    }
    const alice2 = await boot(a2, login);
    await atHome(login, alice2.port, "alice.os");
    await hi(relay, relay.lines, "alice.os", a2.lines);
    await stop(alice2);

    // The downloaded keyfile boots alice.os on an empty home.
    const c = await realNode(chain.url);
    const imp = await openPages(ctx, c);
    await imp.click("#go-import");
    const keyDir = await Deno.makeTempDir({ prefix: "hyperdeno-keyfile-" });
    const file = `${keyDir}/alice.os.keyfile`;
    await Deno.writeTextFile(file, keyfile);
    await imp.setInputFiles("#keyfile", file);
    await imp.fill("#import-name", "alice.os");
    await imp.fill("#import-password", "alice's secret");
    await imp.click("#import");
    const alice3 = await boot(c, imp);
    await Deno.remove(keyDir, { recursive: true });
    await atHome(imp, alice3.port, "alice.os");
    assertEquals(`0x${toHex(alice3.net!.opts.keys.publicKey)}`, await chainKey(chain, "alice.os"));
    await hi(relay, relay.lines, "alice.os", c.lines);
    await stop(alice3);

    // The owner's wallet resets alice.os's notes to a new node's key.
    const before = await chainKey(chain, "alice.os");
    const d = await realNode(chain.url);
    const reset = await openPages(ctx, d);
    await reset.click("#go-reset");
    await reset.click("#connect");
    await reset.fill("#name", "alice.os");
    await reset.waitForSelector("#name-status.ok");
    await reset.check("#direct");
    await reset.fill("#ip", "127.0.0.1");
    await reset.click("#reset");
    await reset.waitForSelector("#password-step:not([hidden])", { timeout: 60_000 });
    await reset.fill("#password", "a new secret");
    await reset.fill("#password2", "a new secret");
    await reset.click("#set-password");
    const alice4 = await boot(d, reset);
    await atHome(reset, alice4.port, "alice.os");
    const after = await chainKey(chain, "alice.os");
    assert(after !== before, "the reset wrote a new key");
    assertEquals(after, `0x${toHex(alice4.net!.opts.keys.publicKey)}`);
    await waitFor(
      "relay.dev to learn the new key",
      () => relay.net!.hns.get("alice.os")?.public_key === after.slice(2),
    );
    await hi(relay, relay.lines, "alice.os", d.lines);
  } finally {
    for (const n of [...nodes]) await n.shutdown().catch(() => {});
    await relay.shutdown();
    await browser.close();
    await chain.stop();
    for (const h of [...homes, relay.opts.home]) await Deno.remove(h, { recursive: true }).catch(() => {});
  }
});
