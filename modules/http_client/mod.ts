/**
 * http-client:distro:sys — the book's HTTP Client API: outgoing HTTP
 * (http.ts) and WebSocket client channels (channels.ts) for local processes.
 * Only processes holding its messaging capability reach it (it is not
 * public: the kernel refuses the rest with Offline and a line naming the
 * manifest field to add), and no request from another node is served (the
 * kernel stops those; this is the second lock). Every request is answered
 * `{"Ok": HttpClientResponse}` or `{"Err": HttpClientError}` when a response
 * is expected; a malformed one is BadRequest, and nothing a process sends
 * stops the module serving the others.
 *
 * Where a process may connect is destination.ts's: the internet, and local
 * addresses only with the local-network capability (LOCAL_NETWORK).
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { answer } from "../../runtime/kernel/module_answer.ts";
import {
  formatAddress,
  type KernelMessage,
  type LazyLoadBlob,
  nodeOf,
  type ProcessId,
  processOf,
} from "../../runtime/types.ts";
import { HTTP_CLIENT } from "../../runtime/api/processes.ts";
import { type HttpClientError, type HttpClientResult, LOCAL_NETWORK } from "../../runtime/api/http_client.ts";
import { parseAction } from "./parse.ts";
import { OutgoingHttp } from "./http.ts";
import { WsChannels } from "./channels.ts";
import type { DestinationPolicy } from "./destination.ts";
import { PinnedClients } from "./pinned.ts";
import { TlsTunnel } from "./tunnel.ts";

/** The time a request that expects no response is given. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

export interface HttpClientOptions {
  /** The node's own listening ports, which http-client never calls on loopback (see destination.ts). */
  ownPorts: () => number[];
}

export class HttpClientModule implements RuntimeModule {
  readonly process = HTTP_CLIENT;
  readonly public = false;
  private http: OutgoingHttp;
  readonly channels: WsChannels;
  private tunnel = new TlsTunnel();
  private pins = new PinnedClients(this.tunnel);

  constructor(private k: KernelHandle, opts: HttpClientOptions) {
    const log = (text: string, owner: ProcessId) =>
      k.print(0, `http-client: ${text}`, { source: owner, kind: "http-client refused" });
    const localNetwork = { issuer: formatAddress(k.our, HTTP_CLIENT), params: JSON.stringify(LOCAL_NETWORK) };
    const policy = (owner: ProcessId): DestinationPolicy => ({
      ownPorts: [...opts.ownPorts(), this.tunnel.port() ?? -1],
      mayReachLocal: k.hasCap(owner, localNetwork),
    });
    this.http = new OutgoingHttp(policy, this.pins, log);
    this.channels = new WsChannels(k, policy, this.pins, log);
  }

  handle(km: KernelMessage) {
    if (!("Request" in km.message)) return;
    if (nodeOf(km.source) !== this.k.our) {
      const line = `http-client: refused a request from ${km.source}: it serves local processes`;
      return this.k.print(0, line, { source: nodeOf(km.source), kind: "remote http-client" });
    }
    answer(this.k, km, this.act(km, budgetMs(km.message.Request.expects_response)), {
      label: "http-client",
      otherError: (e): HttpClientError => ({ RequestFailed: { error: (e as Error)?.message ?? String(e) } }),
    });
  }

  private async act(km: KernelMessage, timeoutMs: number): Promise<[HttpClientResult, LazyLoadBlob | null]> {
    const body = (km.message as { Request: { body: Uint8Array } }).Request.body;
    const action = parseAction(body);
    const owner = processOf(km.source);
    if ("Http" in action) return await this.http.request(owner, action.Http, km.lazy_load_blob, timeoutMs);
    if ("WebSocketOpen" in action) {
      const { url, headers, channel_id } = action.WebSocketOpen;
      return [await this.channels.open(owner, url, headers, channel_id, timeoutMs), null];
    }
    if ("WebSocketPush" in action) {
      const { channel_id, message_type } = action.WebSocketPush;
      return [this.channels.push(owner, channel_id, message_type, km.lazy_load_blob), null];
    }
    return [this.channels.close(owner, action.WebSocketClose.channel_id), null];
  }

  processExited(process: ProcessId) {
    this.http.abortAll(process);
    this.channels.closeAll(process);
  }

  shutdown() {
    this.http.shutdown();
    this.channels.shutdown();
    this.pins.shutdown();
    this.tunnel.close();
  }
}

/**
 * How long the module works on a request: its expects_response, less a
 * margin (a tenth, at most 250 ms) so the process hears RequestFailed or
 * WsOpenFailed, saying why, before the kernel's own Timeout.
 */
function budgetMs(expects: number | null): number {
  const ms = (expects ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  return Math.max(1, ms - Math.min(250, ms / 10));
}
