/**
 * One EVM JSON-RPC endpoint (http or ws) through viem: raw requests with a deadline, and transactions sent one at a
 * time per endpoint from this process, retried when another process took the nonce first. A transaction is signed
 * here with a private key (eth_sendRawTransaction), or, given an address, by the chain for an account it holds
 * unlocked or impersonates (eth_sendTransaction: a dev chain's account #0, or a takeover on the dev chain).
 */
import {
  type Abi,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
  webSocket,
} from "viem";
import { type Account, privateKeyToAccount } from "viem/accounts";
import { defineChain } from "viem";
import { DEV_ACCOUNT_KEY } from "./hypermap.ts";
import { withTimeout } from "../runtime/timeout.ts";

export class RpcError extends Error {
  override name = "RpcError";
}

/** Who sends a transaction: a 32-byte private key (signed here) or a 20-byte address (signed by the chain). */
export type Sender = Hex;

export class ChainClient {
  readonly public: PublicClient;
  private transport: Transport;
  private queue: Promise<unknown> = Promise.resolve();
  private wallet: WalletClient | null = null;

  constructor(readonly url: string, readonly timeoutMs = 10_000) {
    if (!/^(https?|wss?):\/\//.test(url)) {
      throw new RpcError(`an RPC URL is http://, https://, ws:// or wss://: ${url}`);
    }
    this.transport = url.startsWith("ws")
      // viem's own reconnection prints failures to the console: a failed request drops the socket instead, and the
      // next request opens a new one.
      ? webSocket(url, { retryCount: 0, timeout: timeoutMs, reconnect: false })
      : http(url, { retryCount: 0, timeout: timeoutMs });
    this.public = createPublicClient({ transport: this.transport });
  }

  /** A JSON-RPC call; the answer is the endpoint's, unchecked (callers validate what they use). */
  async request(method: string, params: unknown[] = []): Promise<unknown> {
    try {
      // deno-lint-ignore no-explicit-any
      return await this.public.request({ method, params } as any);
    } catch (e) {
      if (this.url.startsWith("ws") && !(e as { code?: unknown }).code) await this.close();
      throw e;
    }
  }

  async chainId(): Promise<number> {
    const id = await this.request("eth_chainId");
    if (typeof id !== "string" || !/^0x[0-9a-f]+$/i.test(id)) throw new RpcError(`eth_chainId answered ${show(id)}`);
    return Number(id);
  }

  /** Reads `functionName` of `abi` at `address`. */
  read<T>(address: Hex, abi: Abi, functionName: string, args: unknown[]): Promise<T> {
    return this.public.readContract({ address, abi, functionName, args }) as Promise<T>;
  }

  /**
   * Sends a call as `from` (dev account #0 unless told) and waits for its receipt; throws with the revert reason
   * when it reverts. Sends from this process go one at a time, so they never race for a nonce among themselves.
   */
  send(
    to: Hex,
    abi: Abi,
    functionName: string,
    args: unknown[],
    from: Sender = DEV_ACCOUNT_KEY,
  ): Promise<{ block: bigint; hash: Hex }> {
    const run = this.queue.then(() => this.sendNow(to, abi, functionName, args, from));
    this.queue = run.catch(() => {});
    return run;
  }

  private async sendNow(to: Hex, abi: Abi, functionName: string, args: unknown[], from: Sender) {
    const account: Account | Hex = from.length === 66 ? privateKeyToAccount(from) : from;
    if (!this.wallet) {
      const chain = defineChain({
        id: await this.chainId(),
        name: "hyperdeno",
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        rpcUrls: { default: { http: [this.url] } },
      });
      this.wallet = createWalletClient({ chain, transport: this.transport });
    }
    for (let attempt = 0;; attempt++) {
      try {
        const hash = await this.wallet.writeContract({ address: to, abi, functionName, args, account, chain: null });
        const receipt = await this.receipt(hash);
        if (receipt.status !== "0x1") {
          throw new RpcError(`${functionName} reverted in block ${Number(receipt.blockNumber)}`);
        }
        return { block: BigInt(receipt.blockNumber), hash };
      } catch (e) {
        // Another process (a second node on the same dev account) took the nonce: try again with the next one.
        if (attempt < 8 && /nonce|already known|replacement transaction/i.test(String((e as Error).message))) {
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
          continue;
        }
        throw e;
      }
    }
  }

  /** Polls for a transaction's receipt (a dev chain mines at once; viem's watcher waits for its next block poll). */
  private async receipt(hash: Hex): Promise<{ status: string; blockNumber: string }> {
    const until = Date.now() + this.timeoutMs;
    for (let wait = 5; Date.now() < until; wait = Math.min(wait * 2, 500)) {
      const r = await this.request("eth_getTransactionReceipt", [hash]) as { status?: unknown; blockNumber?: unknown };
      if (r && typeof r.status === "string" && typeof r.blockNumber === "string") {
        return { status: r.status, blockNumber: r.blockNumber };
      }
      await new Promise((res) => setTimeout(res, wait));
    }
    throw new RpcError(`no receipt for ${hash} within ${this.timeoutMs} ms`);
  }

  /**
   * Tells `onHead` of each block the endpoint announces (eth_subscribe newHeads over a WebSocket of its own: this
   * endpoint if ws, a local chain's own port if http on loopback, as anvil serves both), so a follower need not poll
   * an idle chain; null where none can be had (a remote http endpoint, or one that refuses the subscription).
   * `onLost` hears once when it ends by itself. The notifications' contents are not read: each only says "look".
   *
   * A WebSocket of our own, not viem's: viem shares one socket among every client of a URL in the process (the nodes
   * of a test), so one node's stop would end the others' subscriptions.
   */
  async watchHeads(onHead: () => void, onLost: (why: string) => void): Promise<HeadsWatch | null> {
    const url = headsUrl(this.url);
    if (!url) return null;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      return null;
    }
    const closed = new Promise<void>((r) => ws.addEventListener("close", () => r(), { once: true }));
    let live = false, stopping = false;
    const subscribed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.timeoutMs);
      ws.onopen = () =>
        ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
      ws.onmessage = (e) => {
        let m: { id?: unknown; result?: unknown; method?: unknown };
        try {
          m = typeof e.data === "string" ? JSON.parse(e.data) : {};
        } catch {
          return;
        }
        if (live) {
          if (m?.method === "eth_subscription") onHead();
          return;
        }
        if (m?.id !== 1) return;
        clearTimeout(timer);
        live = typeof m.result === "string";
        resolve(live);
      };
      ws.onclose = () => {
        clearTimeout(timer);
        resolve(false);
        if (live && !stopping) onLost("its WebSocket closed");
        live = false;
      };
    });
    const stop = async () => {
      stopping = true;
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
      await withTimeout(closed, 2000).catch(() => {});
    };
    if (await subscribed) return { stop };
    await stop();
    return null;
  }

  /** Closes a ws connection (the next request opens another). */
  async close() {
    if (!this.url.startsWith("ws")) return;
    try {
      // deno-lint-ignore no-explicit-any
      const rpc: { close(): void } = await withTimeout((this.transport as any)({}).value.getRpcClient(), 1000);
      rpc.close();
    } catch { /* not open */ }
  }
}

/** A subscription to new blocks; stop() resolves once its socket is closed. */
export interface HeadsWatch {
  stop(): Promise<void>;
}

/** Where new blocks can be subscribed to for an endpoint: itself if ws, the same port of a loopback http one. */
function headsUrl(url: string): string | null {
  if (/^wss?:\/\//.test(url)) return url;
  const u = new URL(url);
  if (u.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) return null;
  u.protocol = "ws:";
  return u.href;
}

export function show(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** The name of the contract error a call reverted with, when viem could decode it. */
export function revertName(e: unknown): string | undefined {
  if (!(e instanceof BaseError)) return undefined;
  const revert = e.walk((x) => x instanceof ContractFunctionRevertedError);
  return revert instanceof ContractFunctionRevertedError ? revert.data?.errorName : undefined;
}

/** One line saying why a transaction failed: the contract's error when known, else the client's short message. */
export function failure(e: unknown): string {
  const name = revertName(e);
  if (name) return `reverted with ${name}`;
  if (e instanceof BaseError) return e.shortMessage.split("\n")[0];
  return String((e as Error)?.message ?? e).split("\n")[0];
}
