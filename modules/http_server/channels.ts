/**
 * Open WebSocket channels: each connection to a WebSocket-bound path gets a
 * channel id, its process hears WebSocketOpen, every client message as a
 * WebSocketPush (bytes in the blob), and WebSocketClose when it ends. Only
 * the process that owns a channel may push to it or close it. An extension
 * channel (WebSocketBind with extension) carries MessagePack
 * WebSocketExtPushData both ways.
 */
import { decode, encode } from "@msgpack/msgpack";
import type { KernelHandle } from "../../runtime/kernel/module.ts";
import { formatAddress, isMessageId, jsonBytes, type MessageId, type ProcessId } from "../../runtime/types.ts";
import { HTTP_SERVER } from "../../runtime/api/processes.ts";
import type { HttpServerRequest, MessageType, WsMessageType } from "../../runtime/api/http.ts";
import type { ServerWebSocket } from "../../runtime/sockets/websocket.ts";
import type { Binding } from "./bindings.ts";

interface Channel {
  id: number;
  process: ProcessId;
  ws: ServerWebSocket;
  extension: boolean;
}

export class ChannelError extends Error {
  override name = "ChannelError";
}

export class Channels {
  private open = new Map<number, Channel>();
  private next = (crypto.getRandomValues(new Uint32Array(1))[0] % 0x7fffffff) + 1;

  constructor(private k: KernelHandle) {}

  get size(): number {
    return this.open.size;
  }

  /** The open channels and who owns each. */
  list(): { id: number; process: ProcessId }[] {
    return [...this.open.values()].map((c) => ({ id: c.id, process: c.process }));
  }

  /** Runs a channel for `ws` until it closes. */
  async run(binding: Binding, ws: ServerWebSocket) {
    const id = this.next;
    this.next = (this.next % 0xffffffff) + 1;
    const ch: Channel = { id, process: binding.process, ws, extension: binding.extension };
    this.open.set(id, ch);
    this.tell(ch.process, { WebSocketOpen: { path: binding.path, channel_id: id } });
    try {
      for await (const m of ws.messages()) {
        if (m.kind === "Ping" || m.kind === "Pong") continue;
        if (ch.extension) this.fromExtension(ch, m.data);
        else {
          const push: HttpServerRequest = { WebSocketPush: { channel_id: id, message_type: m.kind } };
          this.tell(ch.process, push, m.data);
        }
      }
    } finally {
      if (this.open.delete(id)) this.tell(ch.process, { WebSocketClose: id });
      ws.close(1000, "");
      await ws.finished;
    }
  }

  private tell(process: ProcessId, req: HttpServerRequest, bytes?: Uint8Array) {
    const body = jsonBytes(req);
    this.k.send(HTTP_SERVER, {
      target: formatAddress(this.k.our, process),
      message: { Request: { inherit: false, expects_response: null, body, metadata: null, capabilities: [] } },
      blob: bytes ? { mime: null, bytes } : null,
    });
  }

  /** An extension's WebSocketExtPushData becomes a WebSocketPush to its process, as a Request or a Response. */
  private fromExtension(ch: Channel, data: Uint8Array) {
    let d: { id?: unknown; hyperware_message_type?: unknown; blob?: unknown };
    try {
      const v = decode(data, { useBigInt64: true }) as Record<string, unknown>;
      d = (v?.WebSocketExtPushData ?? v) as typeof d;
      if (!(d.blob instanceof Uint8Array)) throw new Error("blob is not bytes");
    } catch (e) {
      this.k.print(1, `http: extension on channel ${ch.id} sent something that is not WebSocketExtPushData: ${e}`);
      return ch.ws.close(1003, "expected MessagePack WebSocketExtPushData");
    }
    const body = jsonBytes({ WebSocketPush: { channel_id: ch.id, message_type: "Binary" } });
    const blob = { mime: null, bytes: d.blob as Uint8Array };
    const target = formatAddress(this.k.our, ch.process);
    const id = typeof d.id === "number" && Number.isSafeInteger(d.id) ? BigInt(d.id) : d.id;
    if (d.hyperware_message_type === "Response" && isMessageId(id)) {
      this.k.send(HTTP_SERVER, {
        id,
        target,
        message: { Response: [{ inherit: false, body, metadata: null, capabilities: [] }, null] },
        blob,
      });
    } else {
      this.k.send(HTTP_SERVER, {
        target,
        message: { Request: { inherit: false, expects_response: null, body, metadata: null, capabilities: [] } },
        blob,
      });
    }
  }

  private owned(process: ProcessId, id: number): Channel {
    const ch = this.open.get(id);
    if (!ch || ch.process !== process) throw new ChannelError(`no channel ${id} of ${process} is open`);
    return ch;
  }

  push(process: ProcessId, id: number, type: WsMessageType, bytes: Uint8Array) {
    const ch = this.owned(process, id);
    if (!ch.ws.send(type, bytes)) throw new ChannelError(`channel ${id} closed: its client does not read`);
  }

  pushToExtension(process: ProcessId, id: number, msgId: MessageId, reply: MessageType, bytes: Uint8Array) {
    const ch = this.owned(process, id);
    if (!ch.extension) throw new ChannelError(`channel ${id} is not an extension channel`);
    const data = encode({ WebSocketExtPushData: { id: msgId, hyperware_message_type: reply, blob: bytes } }, {
      useBigInt64: true,
    });
    if (!ch.ws.send("Binary", data)) throw new ChannelError(`channel ${id} closed: its client does not read`);
  }

  close(process: ProcessId, id: number) {
    const ch = this.owned(process, id);
    this.open.delete(id);
    ch.ws.close(1000, "closed by the app");
  }

  /** The process is gone: its channels close. */
  closeAll(process: ProcessId) {
    for (const ch of [...this.open.values()]) {
      if (ch.process !== process) continue;
      this.open.delete(ch.id);
      ch.ws.close(1001, `${process} exited`);
    }
  }

  shutdown() {
    for (const ch of this.open.values()) ch.ws.abort();
    this.open.clear();
  }
}
