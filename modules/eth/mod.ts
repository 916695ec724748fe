/**
 * eth:distro:sys — the book's ETH Provider API over the node's chain (the local dev chain, or --rpc). Processes
 * holding its messaging capability send EthAction: Request (a JSON-RPC call from an allow-list), SubscribeLogs
 * (logs matching a filter from the next block on, each pushed as an EthSubResult Request) and UnsubscribeLogs.
 * Only local processes: other nodes are not served (no provider sharing).
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { answer, ModuleError, requestJson } from "../../runtime/kernel/module_answer.ts";
import { jsonBytes, type KernelMessage, nodeOf, type ProcessId, processOf } from "../../runtime/types.ts";
import { ETH } from "../../runtime/api/processes.ts";
import { ETH_METHODS, type EthError, type EthResponse, type EthSubResult } from "../../runtime/api/eth.ts";
import { parseVariant } from "../../runtime/api/variant.ts";
import { type ChainClient, RpcError } from "../../chain/client.ts";

/** Subscriptions one process may hold at once. */
export const MAX_SUBSCRIPTIONS = 64;
/** Logs pushed per subscription per poll at most (the rest wait for the next). */
const MAX_LOGS_PER_POLL = 1000;

interface Subscription {
  owner: ProcessId;
  id: number;
  filter: Record<string, unknown>;
  next: number;
}

export class EthModule implements RuntimeModule {
  readonly process = ETH;
  readonly public = false;
  private subs = new Map<string, Subscription>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private polling = false;

  constructor(private k: KernelHandle, private chain: ChainClient, readonly chainId: number, private pollMs = 500) {}

  handle(km: KernelMessage) {
    if (!("Request" in km.message)) return;
    const fail = (e: EthError) => new ModuleError(e);
    answer(this.k, km, this.act(km, fail).then((r) => [r, null]), {
      label: "eth",
      otherError: (e) => errorOf(e),
    });
  }

  private async act(km: KernelMessage, fail: (e: EthError) => ModuleError): Promise<EthResponse> {
    if (nodeOf(km.source) !== this.k.our) throw fail("PermissionDenied");
    const [name, arg] = parseVariant(requestJson(km, () => fail("MalformedRequest"))) || [null, undefined];
    const owner = processOf(km.source);
    if (name === "Request") {
      const a = arg as { chain_id?: unknown; method?: unknown; params?: unknown };
      if (!a || typeof a !== "object" || typeof a.method !== "string") throw fail("MalformedRequest");
      if (a.chain_id !== this.chainId) throw fail("NoRpcForChain");
      if (!ETH_METHODS.has(a.method)) throw fail({ InvalidMethod: a.method });
      const params = a.params ?? [];
      if (!Array.isArray(params)) throw fail("InvalidParams");
      const result = await this.chain.request(a.method, params);
      if (result === undefined) throw fail("RpcMalformedResponse");
      return { Response: result };
    }
    if (name === "SubscribeLogs") {
      const a = arg as { sub_id?: unknown; chain_id?: unknown; kind?: unknown; params?: unknown };
      if (!a || typeof a !== "object" || !Number.isSafeInteger(a.sub_id)) throw fail("MalformedRequest");
      if (a.chain_id !== this.chainId) throw fail("NoRpcForChain");
      if (a.kind !== "logs" || !a.params || typeof a.params !== "object" || Array.isArray(a.params)) {
        throw fail("InvalidParams");
      }
      const key = `${owner}\n${a.sub_id}`;
      if (!this.subs.has(key) && [...this.subs.values()].filter((s) => s.owner === owner).length >= MAX_SUBSCRIPTIONS) {
        throw fail({ RpcError: `a process holds at most ${MAX_SUBSCRIPTIONS} subscriptions` });
      }
      const head = Number(await this.chain.request("eth_blockNumber"));
      if (!Number.isSafeInteger(head)) throw fail("RpcMalformedResponse");
      // From the next block, as eth_subscribe does; fromBlock/toBlock are the poller's to set.
      const { fromBlock: _f, toBlock: _t, ...filter } = a.params as Record<string, unknown>;
      this.subs.set(key, { owner, id: a.sub_id as number, filter, next: head + 1 });
      this.startPolling();
      return "Ok";
    }
    if (name === "UnsubscribeLogs") {
      if (!Number.isSafeInteger(arg)) throw fail("MalformedRequest");
      if (!this.subs.delete(`${owner}\n${arg}`)) throw fail({ SubscriptionClosed: arg as number });
      return "Ok";
    }
    throw fail("MalformedRequest");
  }

  private startPolling() {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.pollMs);
    Deno.unrefTimer(this.timer as unknown as number);
  }

  private async poll() {
    if (this.polling) return;
    if (!this.subs.size) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    this.polling = true;
    try {
      const head = Number(await this.chain.request("eth_blockNumber"));
      if (!Number.isSafeInteger(head)) return;
      for (const [key, s] of this.subs) {
        if (s.next > head) continue;
        const to = Math.min(head, s.next + 9_999);
        try {
          const logs = await this.chain.request("eth_getLogs", [{
            ...s.filter,
            fromBlock: `0x${s.next.toString(16)}`,
            toBlock: `0x${to.toString(16)}`,
          }]);
          if (!Array.isArray(logs)) throw new RpcError("eth_getLogs did not answer a list");
          if (this.subs.get(key) !== s) continue;
          // At most MAX_LOGS_PER_POLL a round, in whole blocks (one block holding more goes whole); the rest next round.
          let batch = logs as { blockNumber?: string }[], next = to + 1;
          if (logs.length > MAX_LOGS_PER_POLL) {
            const cut = Number(batch[MAX_LOGS_PER_POLL].blockNumber);
            if (cut > s.next) [batch, next] = [batch.filter((l) => Number(l.blockNumber) < cut), cut];
          }
          for (const log of batch) this.push(s, { Ok: { id: s.id, result: log } });
          s.next = next;
        } catch (e) {
          this.push(s, { Err: { id: s.id, error: (e as Error).message.split("\n")[0] } });
        }
      }
    } catch {
      // The chain does not answer: subscriptions wait (the indexer says so once).
    } finally {
      this.polling = false;
    }
  }

  private push(s: Subscription, r: EthSubResult) {
    this.k.send(ETH, {
      target: `${this.k.our}@${s.owner}`,
      message: {
        Request: { inherit: false, expects_response: null, body: jsonBytes(r), metadata: null, capabilities: [] },
      },
    });
  }

  processExited(process: ProcessId) {
    for (const [key, s] of this.subs) if (s.owner === process) this.subs.delete(key);
  }

  shutdown() {
    if (this.timer) clearInterval(this.timer);
    this.subs.clear();
  }
}

function errorOf(e: unknown): EthError {
  const err = e as { name?: string; code?: unknown; shortMessage?: string; message?: string; cause?: unknown };
  if (err?.name === "TimeoutError") return "RpcTimeout";
  if (err instanceof RpcError || err?.name === "InvalidJsonRpcResponseError") return "RpcMalformedResponse";
  const code = typeof err?.code === "number" ? err.code : undefined;
  return { RpcError: { code: code ?? null, message: (err?.shortMessage ?? err?.message ?? String(e)).split("\n")[0] } };
}
