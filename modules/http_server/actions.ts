/**
 * The book's HttpServerAction, from the processes of this node. Each answers
 * `{"Ok": null}` or `{"Err": HttpServerError}` when a response is expected.
 * A path is always taken relative to the sender (bindings.ts puts its id in
 * front), so a process binds, replaces and unbinds only its own.
 */
import { answer, ModuleError, requestJson } from "../../runtime/kernel/module_answer.ts";
import { type KernelMessage, nodeOf, processOf } from "../../runtime/types.ts";
import { parseVariant } from "../../runtime/api/variant.ts";
import type { HttpServerError, MessageType, WsMessageType } from "../../runtime/api/http.ts";
import { BindError, fullPath } from "./bindings.ts";
import { ChannelError } from "./channels.ts";
import type { HttpServerModule } from "./mod.ts";

const WS_TYPES = new Set(["Text", "Binary", "Ping", "Pong", "Close"]);

function refuse(e: HttpServerError): ModuleError<HttpServerError> {
  return new ModuleError(e);
}

function bad(req: string): ModuleError<HttpServerError> {
  return refuse({ BadRequest: { req } });
}

async function etagOf(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return `"${[...d.subarray(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

export function handleAction(m: HttpServerModule, km: KernelMessage) {
  if (!("Request" in km.message)) return;
  answer(m.k, km, act(m, km).then(() => [{ Ok: null }, null]), {
    label: "http-server",
    otherError: (e) => ({ BadRequest: { req: String((e as Error).message ?? e) } }),
  });
}

async function act(m: HttpServerModule, km: KernelMessage): Promise<void> {
  if (nodeOf(km.source) !== m.k.our) throw bad("http-server takes actions from processes of this node only");
  const process = processOf(km.source);
  const [name, a] = parseVariant(requestJson(km, (e) => bad(`not JSON: ${e.message}`))) ?? [];
  const arg = (a ?? {}) as Record<string, unknown>;
  const blob = km.lazy_load_blob;
  const path = () => {
    try {
      return fullPath(process, arg.path as string);
    } catch (e) {
      throw refuse({ PathBindError: { error: (e as BindError).message } });
    }
  };
  const flag = (k: string) => {
    if (typeof arg[k] !== "boolean") throw bad(`${name}.${k} must be true or false`);
    return arg[k] as boolean;
  };
  const channel = (v: unknown) => {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) throw bad("channel_id must be a u32");
    return v as number;
  };
  const wsType = (v: unknown) => {
    if (!WS_TYPES.has(v as string)) throw bad(`message_type must be one of ${[...WS_TYPES].join(", ")}`);
    return v as WsMessageType;
  };
  const inChannel = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ChannelError) throw refuse({ WebSocketPushError: { error: e.message } });
      throw e;
    }
  };
  switch (name) {
    case "Bind":
    case "SecureBind": {
      const secure = name === "SecureBind";
      const cache = flag("cache");
      if (cache && !blob) throw refuse("NoBlob");
      m.bindings.bind({
        process,
        path: path(),
        authenticated: secure || flag("authenticated"),
        localOnly: !secure && flag("local_only"),
        secure,
        static: cache && blob ? { bytes: blob.bytes, mime: blob.mime, etag: await etagOf(blob.bytes) } : null,
        extension: false,
      });
      return;
    }
    case "Unbind":
      m.bindings.remove(path());
      return;
    case "WebSocketBind":
    case "WebSocketSecureBind": {
      const secure = name === "WebSocketSecureBind";
      m.wsBindings.bind({
        process,
        path: path(),
        authenticated: secure || flag("authenticated"),
        localOnly: false,
        secure,
        static: null,
        extension: flag("extension"),
      });
      return;
    }
    case "WebSocketUnbind":
      m.wsBindings.remove(path());
      return;
    case "WebSocketPush": {
      const id = channel(arg.channel_id), type = wsType(arg.message_type);
      if (!blob && type !== "Close") throw refuse("NoBlob");
      return inChannel(() => m.channels.push(process, id, type, blob?.bytes ?? new Uint8Array()));
    }
    case "WebSocketExtPushOutgoing": {
      const id = channel(arg.channel_id);
      wsType(arg.message_type);
      const reply = arg.desired_reply_type as MessageType;
      if (reply !== "Request" && reply !== "Response") throw bad("desired_reply_type must be Request or Response");
      if (!blob) throw refuse("NoBlob");
      return inChannel(() => m.channels.pushToExtension(process, id, km.id, reply, blob.bytes));
    }
    case "WebSocketClose":
      return inChannel(() => m.channels.close(process, channel(a)));
    default:
      throw bad(`unknown HttpServerAction ${JSON.stringify(name ?? null)}`);
  }
}
