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
