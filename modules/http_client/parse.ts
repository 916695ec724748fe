/**
 * Reading an HttpClientAction from a request body. Anything that is not the
 * book's shape (not JSON, an unknown variant, a field of the wrong type, a
 * channel id that is no u32, a header that HTTP cannot carry) is refused as
 * BadRequest naming what was wrong; method, URL and version are checked where
 * they are used (http.ts, channels.ts) and refused with their own variants.
 */
import { ModuleError } from "../../runtime/kernel/module_answer.ts";
import { parseVariant } from "../../runtime/api/variant.ts";
import {
  type HttpClientAction,
  type HttpClientError,
  WS_MESSAGE_TYPES,
  type WsMessageType,
} from "../../runtime/api/http_client.ts";
import { fromUtf8 } from "../../runtime/types.ts";

/** How much of a refused body a BadRequest quotes back. */
const QUOTE_CHARS = 200;

const ACTIONS = ["Http", "WebSocketOpen", "WebSocketPush", "WebSocketClose"];

export const refuse = (e: HttpClientError) => new ModuleError<HttpClientError>(e);

/** BadRequest quoting (the start of) what was sent and why it is not an HttpClientAction. */
export function badRequest(sent: string, why: string): ModuleError {
  const quoted = sent.length > QUOTE_CHARS ? `${sent.slice(0, QUOTE_CHARS)}…` : sent;
  return refuse({ BadRequest: { req: `${quoted} (${why})` } });
}

export function parseAction(body: Uint8Array): HttpClientAction {
  const text = fromUtf8(body);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badRequest(text, "not JSON");
  }
  const variant = parseVariant(v);
  const fail = (why: string) => badRequest(text, why);
  if (!variant || !ACTIONS.includes(variant[0])) {
    throw fail("use Http, WebSocketOpen, WebSocketPush or WebSocketClose");
  }
  const arg = variant[1] as Record<string, unknown>;
  if (typeof arg !== "object" || arg === null || Array.isArray(arg)) throw fail(`${variant[0]} takes an object`);
  switch (variant[0]) {
    case "Http": {
      const { method, url, version, headers } = arg;
      if (typeof method !== "string") throw fail("method must be a string");
      if (typeof url !== "string") throw fail("url must be a string");
      if (version !== undefined && version !== null && typeof version !== "string") {
        throw fail("version must be a string or null");
      }
      return { Http: { method, url, version: version ?? null, headers: headerMap(headers, fail) } };
    }
    case "WebSocketOpen": {
      const { url, headers, channel_id } = arg;
      if (typeof url !== "string") throw fail("url must be a string");
      return { WebSocketOpen: { url, headers: headerMap(headers, fail), channel_id: channelId(channel_id, fail) } };
    }
    case "WebSocketPush": {
      const { channel_id, message_type } = arg;
      if (!WS_MESSAGE_TYPES.includes(message_type as WsMessageType)) {
        throw fail(`message_type must be one of ${WS_MESSAGE_TYPES.join(", ")}`);
      }
      return {
        WebSocketPush: { channel_id: channelId(channel_id, fail), message_type: message_type as WsMessageType },
      };
    }
    default:
      return { WebSocketClose: { channel_id: channelId(arg.channel_id, fail) } };
  }
}

function channelId(v: unknown, fail: (why: string) => ModuleError): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw fail("channel_id must be an integer from 0 to 4294967295");
  }
  return v;
}

/** A map of header names to values that HTTP can carry (names are tokens; values have no CR, LF or NUL). */
function headerMap(v: unknown, fail: (why: string) => ModuleError): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw fail("headers must be an object of strings");
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(v)) {
    if (typeof value !== "string") throw fail(`header ${JSON.stringify(name)} must be a string`);
    try {
      new Headers([[name, value]]);
    } catch {
      throw fail(`header ${JSON.stringify(name)} is not a valid HTTP header`);
    }
    out[name] = value;
  }
  return out;
}
