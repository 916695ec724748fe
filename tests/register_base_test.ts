/**
 * Nothing assumes the dev chain: anvil started as Base (chain id 8453, its history from Base's first Hypermap block)
 * with the contracts deployed as the dev chain setup does, `.os` given the 9-character commit minter as on Base
 * (so its account is Base's `.os` account). A node registers there through the same pages (commit, wait, mint, the
 * wallet on chain 8453 paying), boots, and says hi with a fake node of that chain; the indexer reads from Base's
 * first block, not from 0.
 */
import { encodeFunctionData } from "viem";
import { launchChromium } from "./browser.ts";
import { assert, assertEquals } from "./assert.ts";
import { bootNode, registerTestName, type TestNode, waitFor } from "../runtime/testing.ts";
import { Anvil } from "../chain/anvil.ts";
import { ChainClient } from "../chain/client.ts";
import { deployHypermap, DEV_ACCOUNT, getEntry, writeAbi } from "../chain/deploy.ts";
import { HYPER_ACCOUNT_COMMIT_MINTER, HYPERMAP, minterAbi, namehash, ZERO_HASH } from "../chain/hypermap.ts";
import { mintCall } from "../chain/mint.ts";
import { BASE, firstBlock } from "../chain/networks.ts";
import { HnsIndexer } from "../chain/indexer.ts";
import { toHex } from "../runtime/bytes.ts";
import type { Node } from "../runtime/boot.ts";
import { freePort } from "./cli_helpers.ts";
import { injectWallet, openPages, realNode, shows, WALLET_KEYS } from "./register_helpers.ts";

/** Base's `.os` account (the reference register UI's DOTOS): the same derivation on chain 8453. */
const BASE_DOTOS = "0x763Ae1AB24c4322b8933E58d76d8D9286f6C0162";

/** eth_getLogs' fromBlock of every call made through this client. */
class Watched extends ChainClient {
  from: number[] = [];
  override request(method: string, params: unknown[] = []): Promise<unknown> {
    if (method === "eth_getLogs") this.from.push(Number((params[0] as { fromBlock: string }).fromBlock));
    return super.request(method, params);
  }
}

Deno.test("a chain with Base's id: the indexer starts at Base's first block; the pages register with the commit minter", async () => {
  const anvil = await Anvil.start(freePort(), ["--chain-id", "8453", "--number", String(BASE.firstBlock)]);
  const client = new ChainClient(anvil.url);
  const browser = await launchChromium();
  let relay: TestNode | null = null;
  let node: Node | null = null;
  try {
    assertEquals(await client.chainId(), 8453);
    // The dev chain's setup, on this chain: contracts, the root, `dev` with the open minter; `.os` as Base has it.
    await deployHypermap(client, ["dev"]);
    const [rootTba] = await getEntry(client, ZERO_HASH);
    const init = encodeFunctionData({ abi: minterAbi, functionName: "initialize" });
    await client.send(rootTba, writeAbi, "execute", [
      HYPERMAP,
      0n,
      mintCall(DEV_ACCOUNT, "os", init, HYPER_ACCOUNT_COMMIT_MINTER),
      0,
    ]);
    assertEquals((await getEntry(client, namehash("os")))[0], BASE_DOTOS);

    // A fake node here registers nothing itself (not a dev chain): the test mints it to an account of its own.
    relay = await bootNode({ name: "relay.dev", network: { rpc: anvil.url, pollMs: 100 } });
    await registerTestName(client, {
      name: "relay.dev",
      publicKey: relay.net!.opts.keys.publicKey,
      ips: ["127.0.0.1"],
      ports: { tcp: relay.net!.tcpPort, ws: relay.net!.wsPort },
      routers: [],
    });

    // The pages: a 9-character .os name, committed, then minted once the commit is old enough.
    const ctx = await browser.newContext({ acceptDownloads: true });
    const wallet = await injectWallet(ctx, anvil.url, WALLET_KEYS[0]);
    const b = await realNode(anvil.url);
    assert(b.lines.some((l) => /on Base \(chain id 8453\)/.test(l)), b.lines.join("\n"));
    const page = await openPages(ctx, b);
    await page.click("#go-register");
    await page.click("#connect");
    await page.fill("#name", "short");
    await page.waitForSelector("#name-status.error");
    assert(/at least 9 characters/.test(await page.textContent("#name-status") ?? ""));
    await page.fill("#name", "carol-node");
    await page.waitForSelector("#name-status.ok");
    assert(/a commit first/.test(await page.textContent("#name-status") ?? ""));
    await page.check("#direct");
    await page.fill("#ip", "127.0.0.1");
    await page.click("#register");
    await shows(page, "#password-step");
    assertEquals(wallet.calls.filter((c) => c === "eth_sendTransaction").length, 2, "a commit, then the mint");
    await page.fill("#password", "carol's secret");
    await page.fill("#password2", "carol's secret");
    await Promise.all([page.waitForEvent("download", { timeout: 60_000 }), page.click("#set-password")]);
    node = await b.node;
    await page.waitForURL(`http://localhost:${node.port}/`, { timeout: 60_000 });
    assertEquals(await page.textContent("header .node"), "carol-node.os");
    assertEquals((await getEntry(client, namehash("carol-node.os")))[1], wallet.address);
    assertEquals(
      (await getEntry(client, namehash("~net-key.carol-node.os")))[2],
      `0x${toHex(node.net!.opts.keys.publicKey)}`,
    );
    assertEquals(node.chain!.chainId, 8453);

    // hi both ways with the fake node of this chain.
    await waitFor("relay.dev to know carol-node.os", () => relay!.net!.hns.has("carol-node.os"), 20_000);
    await waitFor("carol-node.os to know relay.dev", () => node!.net!.hns.has("relay.dev"), 20_000);
    const mark = relay.lines.length;
    relay.terminal.command("hi carol-node.os hello from relay");
    await waitFor(
      "the answer",
      () => relay!.lines.slice(mark).some((l) => /hi: carol-node\.os got it/.test(l)),
      30_000,
    );
    await waitFor("the hello", () => b.lines.some((l) => l.includes("hello from relay")));

    // An indexer of this chain reads from Base's first block, never from 0.
    const watched = new Watched(anvil.url);
    const names: string[] = [];
    const indexer = new HnsIndexer({
      chain: watched,
      stateFile: null,
      onUpdate: (u) => names.push(u.name),
      log: () => {},
    });
    await indexer.start();
    await indexer.stop();
    await watched.close();
    assertEquals(Math.min(...watched.from), firstBlock(8453));
    assertEquals(firstBlock(8453), 27_270_411);
    assert(names.includes("carol-node.os") && names.includes("relay.dev"), names.join(","));
  } finally {
    await node?.shutdown();
    await relay?.shutdown();
    await browser.close();
    await client.close();
    await anvil.stop();
    for (const n of [node, relay]) if (n) await Deno.remove(n.opts.home, { recursive: true }).catch(() => {});
  }
});
