/**
 * WebSocket client channels for http-client:distro:sys, on the platform's
 * WebSocket. A channel belongs to the process that opened it, under the id
 * it chose (ids are per process; opening an id again replaces the old
 * channel). Messages from the server reach that process as the book's
 * `HttpClientRequest::WebSocketPush` (the message in the blob); a close it
 * did not ask for (the server's, or a broken connection) as
 * `WebSocketClose`. A close it asked for is answered WebSocketAck and
 * nothing more.
 *
 * The host is resolved and checked as for HTTP (destination.ts) and the
 * connection made to the checked address only (pinned.ts).
 *
 * A process holds at most LIMITS.wsClientChannels channels; a push is
 * refused while the server has not read PUSH_BACKLOG_BYTES; a process that
 * exits has its channels closed.
 */
import { formatAddress, jsonBytes, type LazyLoadBlob, type ProcessId, utf8 } from "../../runtime/types.ts";
import { LIMITS } from "../../runtime/limits.ts";
import type { HttpClientRequest, HttpClientResult, WsMessageType } from "../../runtime/api/http_client.ts";
import { HTTP_CLIENT } from "../../runtime/api/processes.ts";
import type { KernelHandle } from "../../runtime/kernel/module.ts";
import { refuse } from "./parse.ts";
import { AddressRefused, type Destination, type DestinationPolicy, resolveDestination } from "./destination.ts";
import type { Lease, PinnedClients } from "./pinned.ts";

/** Bytes pushed and not yet taken by the server past which further pushes are refused. */
export const PUSH_BACKLOG_BYTES = 16 * 2 ** 20;
const ACK: HttpClientResult = { Ok: "WebSocketAck" };
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

interface Channel {
  ws: WebSocket;
  id: number;
}

export class WsChannels {
  private byOwner = new Map<ProcessId, Map<number, Channel>>();
  /** Connections still opening, so a process that exits meanwhile has them closed too. */
  private connecting = new Map<ProcessId, Set<WebSocket>>();

  constructor(
    private k: KernelHandle,
    private policy: (owner: ProcessId) => DestinationPolicy,
    private pins: PinnedClients,
    private log: (text: string, owner: ProcessId) => void,
  ) {}

  async open(
    owner: ProcessId,
    rawUrl: string,
    headers: Record<string, string>,
    id: number,
    timeoutMs: number,
  ): Promise<HttpClientResult> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw refuse({ BadUrl: { url: rawUrl } });
    }
    if (url.protocol !== "ws:" && url.protocol !== "wss:") throw refuse({ BadUrl: { url: rawUrl } });
    const openFailed = (why: string) => {
      this.log(`could not open channel ${id} of ${owner} to ${url.host}: ${why}`, owner);
      return refuse({ WsOpenFailed: { url: rawUrl } });
    };
    const mine = this.byOwner.get(owner);
    if (mine && !mine.has(id) && mine.size >= LIMITS.wsClientChannels) {
      throw openFailed(`it holds ${mine.size} channels, the most a process may`);
    }
    let dest: Destination;
    let lookupTimer: ReturnType<typeof setTimeout> | undefined;
    try {
      // A lookup that hangs still ends with the request's time.
      const late = new Promise<never>((_, reject) =>
        lookupTimer = setTimeout(() => reject(new Error(`no address within ${timeoutMs / 1000} s`)), timeoutMs)
      );
      dest = await Promise.race([resolveDestination(url, this.policy(owner)), late]);
    } catch (e) {
      if (!(e instanceof AddressRefused)) throw openFailed((e as Error).message);
      this.log(`refused ${owner}'s channel ${id} to ${url.host}: ${e.reason}`, owner);
      throw refuse({ AddressRefused: { url: rawUrl, address: e.address, reason: e.reason } });
    } finally {
      clearTimeout(lookupTimer);
    }

    let ws: WebSocket;
    const lease: Lease = this.pins.lease(dest, url.protocol === "wss:", null);
    try {
      ws = new WebSocket(url, { headers, client: lease.client });
    } catch {
      lease.release();
      throw refuse({ BadUrl: { url: rawUrl } }); // a URL WebSocket will not take, e.g. one with a #fragment
    }
    ws.binaryType = "arraybuffer";
    // Set at once: the platform hands over a message sent right after the handshake before `await` returns.
    ws.onmessage = (e) => {
      const text = typeof e.data === "string";
      const bytes = text ? utf8(e.data) : new Uint8Array(e.data as ArrayBuffer);
      this.tell(owner, { WebSocketPush: { channel_id: id, message_type: text ? "Text" : "Binary" } }, {
        mime: text ? "text/plain" : "application/octet-stream",
        bytes,
      });
    };
    const connecting = this.connecting.get(owner) ?? new Set<WebSocket>();
    this.connecting.set(owner, connecting.add(ws));
    const opened = await new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
      ws.onopen = () => (clearTimeout(timer), resolve(null));
      ws.onerror = (e) => (clearTimeout(timer), resolve((e as ErrorEvent).message || "connection failed"));
      ws.onclose = () => (clearTimeout(timer), resolve("closed before it opened"));
    }).finally(() => {
      connecting.delete(ws);
      if (connecting.size === 0 && this.connecting.get(owner) === connecting) this.connecting.delete(owner);
    });
    const failure = opened?.includes("unsuccessful tunnel") ? lease.tunnelFailure() ?? opened : opened;
    lease.release();
    if (failure !== null) {
      ws.onerror = ws.onclose = ws.onmessage = null;
      ws.close();
      throw openFailed(failure);
    }
    const old = this.byOwner.get(owner)?.get(id);
    if (old) this.drop(owner, old);
    const channels = this.byOwner.get(owner) ?? new Map<number, Channel>();
    this.byOwner.set(owner, channels);
    const channel: Channel = { ws, id };
    channels.set(id, channel);
    ws.onerror = null;
    ws.onclose = () => {
      if (channels.get(id) !== channel) return;
      this.forget(owner, id);
      this.tell(owner, { WebSocketClose: { channel_id: id } }, null);
    };
    return ACK;
  }

  push(owner: ProcessId, id: number, type: WsMessageType, blob: LazyLoadBlob | null): HttpClientResult {
    const failed = (why: string) => refuse({ WsPushFailed: { req: `channel ${id}: ${why}` } });
    const channel = this.byOwner.get(owner)?.get(id);
    if (!channel) throw failed("no such channel is open");
    if (type === "Close") return this.close(owner, id);
    if (type === "Ping" || type === "Pong") {
      throw failed(`${type} frames are the runtime's own: its WebSocket answers the server's pings itself`);
    }
    if (!blob) throw failed(`a ${type} push carries its message in the blob, and there is none`);
    if (channel.ws.readyState !== WebSocket.OPEN) throw failed("the connection is closing");
    if (channel.ws.bufferedAmount > PUSH_BACKLOG_BYTES) {
      throw failed(`the server has not read ${channel.ws.bufferedAmount} bytes pushed earlier`);
    }
    if (type === "Text") {
      let text: string;
      try {
        text = strictUtf8.decode(blob.bytes);
      } catch {
        throw failed("a Text push's blob must be UTF-8");
      }
      channel.ws.send(text);
    } else channel.ws.send(blob.bytes);
    return ACK;
  }

  close(owner: ProcessId, id: number): HttpClientResult {
    const channel = this.byOwner.get(owner)?.get(id);
    if (!channel) throw refuse({ WsCloseFailed: { channel_id: id } });
    this.drop(owner, channel);
    return ACK;
  }

  /** Closes the channels of a process that stopped (it is not told). */
  closeAll(owner: ProcessId) {
    for (const ws of this.connecting.get(owner) ?? []) ws.close();
    for (const c of [...this.byOwner.get(owner)?.values() ?? []]) this.drop(owner, c);
  }

  shutdown() {
    for (const owner of new Set([...this.byOwner.keys(), ...this.connecting.keys()])) this.closeAll(owner);
  }

  /** Channels open now, by process (for tests and diagnostics). */
  count(owner: ProcessId): number {
    return this.byOwner.get(owner)?.size ?? 0;
  }

  private drop(owner: ProcessId, channel: Channel) {
    channel.ws.onmessage = channel.ws.onclose = null;
    channel.ws.close();
    this.forget(owner, channel.id);
  }

  private forget(owner: ProcessId, id: number) {
    const mine = this.byOwner.get(owner);
    mine?.delete(id);
    if (mine?.size === 0) this.byOwner.delete(owner);
  }

  private tell(owner: ProcessId, req: HttpClientRequest, blob: LazyLoadBlob | null) {
    this.k.send(HTTP_CLIENT, {
      target: formatAddress(this.k.our, owner),
      message: {
        Request: { inherit: false, expects_response: null, body: jsonBytes(req), metadata: null, capabilities: [] },
      },
      blob,
    });
  }
}
