/**
 * What the registration tests share: a wallet in the page as MetaMask injects one (window.ethereum, an EIP-1193
 * provider whose request() the test answers with an anvil account's key: accounts, chain id, signed transactions,
 * typed-data signatures, and every other call passed to the chain's RPC), and a real node booted through the pages.
 */
import type { BrowserContext, Page } from "playwright-core";
import { createWalletClient, defineChain, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { bootRealNode, type RealNodeOptions } from "../register/real_node.ts";
import type { SetupServer } from "../register/server.ts";
import type { Node } from "../runtime/boot.ts";
import { waitFor } from "../runtime/testing.ts";

/** anvil's accounts #1 and #2 (account #0 is the dev account, which owns the fake names). */
export const WALLET_KEYS = [
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
] as const;

export interface Wallet {
  address: Hex;
  /** The EIP-1193 methods the page called, in order. */
  calls: string[];
}

/** Injects a wallet holding `key` into every page of `context`, as a browser extension would. */
export async function injectWallet(context: BrowserContext, rpc: string, key: Hex): Promise<Wallet> {
  const account = privateKeyToAccount(key);
  const chainId = Number((await rpcCall(rpc, "eth_chainId", [])) as string);
  const chain = defineChain({
    id: chainId,
    name: "test",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpc] } },
  });
  const client = createWalletClient({ account, chain, transport: http(rpc) });
  const wallet: Wallet = { address: account.address, calls: [] };
  await context.exposeBinding("__walletRequest", async (_source, method: string, params: unknown[]) => {
    wallet.calls.push(method);
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [account.address];
      case "eth_chainId":
        return `0x${chainId.toString(16)}`;
      case "wallet_switchEthereumChain":
        if (Number((params[0] as { chainId: string }).chainId) !== chainId) throw new Error("unknown chain");
        return null;
      case "eth_sendTransaction": {
        const tx = params[0] as { from: Hex; to: Hex; data: Hex };
        if (tx.from.toLowerCase() !== account.address.toLowerCase()) throw new Error("not this wallet's account");
        return await client.sendTransaction({ to: tx.to, data: tx.data, account, chain });
      }
      case "eth_signTypedData_v4": {
        const [from, json] = params as [Hex, string];
        if (from.toLowerCase() !== account.address.toLowerCase()) throw new Error("not this wallet's account");
        const { domain, types, primaryType, message } = JSON.parse(json);
        delete types.EIP712Domain;
        return await account.signTypedData({ domain, types, primaryType, message });
      }
      default:
        return await rpcCall(rpc, method, params ?? []);
    }
  });
  await context.addInitScript(() => {
    // deno-lint-ignore no-explicit-any
    const w = globalThis as any;
    w.ethereum = {
      isMetaMask: true,
      request: ({ method, params }: { method: string; params?: unknown[] }) => w.__walletRequest(method, params ?? []),
    };
  });
  return wallet;
}

async function rpcCall(rpc: string, method: string, params: unknown[]): Promise<unknown> {
  const r = await fetch(rpc, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const j = await r.json();
  if (j.error) throw new Error(j.error.message);
  return j.result;
}

export interface Booting {
  /** The pages' port. */
  setup: SetupServer;
  /** The node, once the pages have booted it. */
  node: Promise<Node>;
  lines: string[];
}

/** A real node on a temporary home (unless given), waiting at its registration pages. */
export async function realNode(rpc: string, opts: Partial<RealNodeOptions> = {}): Promise<Booting> {
  const home = opts.home ?? await Deno.makeTempDir({ prefix: "hyperdeno-real-" });
  const lines: string[] = [];
  let setup: SetupServer | null = null;
  const node = bootRealNode({
    home,
    port: 0,
    rpc,
    verbosity: 1,
    pollMs: 100,
    write: (l) => lines.push(l),
    onSetup: (s) => setup = s,
    ...opts,
  });
  node.catch(() => {});
  await Promise.race([
    waitFor("the registration pages", () => setup !== null, 30_000),
    node.then(() => {}),
  ]);
  if (!setup) throw new Error(`the node booted without its pages:\n${lines.join("\n")}`);
  return { setup, node, lines };
}

/** Opens the pages in a new page of `context`. */
export async function openPages(context: BrowserContext, b: Booting, path = "/"): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(`http://localhost:${b.setup.port}${path}`);
  return page;
}

/** Waits for `selector` to show; the page's own error, if it shows one first, is the failure. */
export async function shows(page: Page, selector: string, ms = 120_000) {
  await waitFor(`${selector} on the pages`, async () => {
    if (await page.isVisible("#error")) {
      throw new Error(
        `the pages say: ${await page.textContent("#error")} (status: ${await page.textContent("#status")})`,
      );
    }
    return await page.isVisible(selector);
  }, ms);
}
