/**
 * The network wire's MessagePack shapes, as serde writes them with rmp:
 * structs are arrays in field order, enums are externally tagged, addresses
 * and process ids are their strings. Bytes travel as MessagePack bin (the
 * reference writes Vec<u8> as arrays of integers; decoding accepts both, so
 * byte-level compatibility is one switch in this file).
 */
import { decode, encode } from "@msgpack/msgpack";
import {
  type Capability,
  type KernelMessage,
  type LazyLoadBlob,
  type Message,
  parseAddress,
  ParseError,
  toBytes,
} from "../../runtime/types.ts";

export const PROTOCOL_VERSION = 1;
/** The largest serialized KernelMessage either transport carries. */
export const MAX_KERNEL_MESSAGE = 10_485_800;

export interface HandshakePayload {
  protocol_version: number;
  name: string;
  signature: Uint8Array;
  proxy_request: boolean;
}

export interface RoutingRequest {
  protocol_version: number;
  source: string;
  signature: Uint8Array;
  target: string;
}

function decoded(bytes: Uint8Array, what: string): unknown {
  try {
    return decode(bytes, { maxStrLength: MAX_KERNEL_MESSAGE, maxBinLength: MAX_KERNEL_MESSAGE });
  } catch (e) {
    throw new ParseError(`${what} is not MessagePack: ${(e as Error).message}`);
  }
}

export function encodeHandshake(p: HandshakePayload): Uint8Array {
  return encode([p.protocol_version, p.name, p.signature, p.proxy_request]);
}

export function decodeHandshake(bytes: Uint8Array): HandshakePayload {
  const v = decoded(bytes, "HandshakePayload");
  if (
    !Array.isArray(v) || v.length !== 4 || typeof v[0] !== "number" || typeof v[1] !== "string" ||
    typeof v[3] !== "boolean"
  ) {
    throw new ParseError("malformed HandshakePayload");
  }
  return { protocol_version: v[0], name: v[1], signature: toBytes(v[2], "signature"), proxy_request: v[3] };
}

export function encodeRouting(r: RoutingRequest): Uint8Array {
  return encode([r.protocol_version, r.source, r.signature, r.target]);
}

export function decodeRouting(bytes: Uint8Array): RoutingRequest {
  const v = decoded(bytes, "RoutingRequest");
  if (
    !Array.isArray(v) || v.length !== 4 || typeof v[0] !== "number" || typeof v[1] !== "string" ||
    typeof v[3] !== "string"
  ) {
    throw new ParseError("malformed RoutingRequest");
  }
  return { protocol_version: v[0], source: v[1], signature: toBytes(v[2], "signature"), target: v[3] };
}

const caps = (c: Capability[]) => c.map((x) => [x.issuer, x.params]);
const blob = (b: LazyLoadBlob | null) => b ? [b.mime, b.bytes] : null;

/**
 * A KernelMessage as parts whose concatenation is its MessagePack encoding.
 * The blob is the last field, so its bytes go out as they are, uncopied.
 */
export function encodeKernelMessageParts(km: KernelMessage): Uint8Array[] {
  const blob = km.lazy_load_blob;
  if (!blob || blob.bytes.length < 4096) return [encodeKernelMessage(km)];
  // Everything up to the blob's bytes: [.., .., .., .., .., [mime, <bin header>
  const head = encodeKernelMessage({ ...km, lazy_load_blob: { mime: blob.mime, bytes: new Uint8Array() } });
  // The empty blob encoded as bin8 of length 0 (0xc4 0x00) ends `head`; replace it with a bin32 header.
  const bin = new Uint8Array(5);
  bin[0] = 0xc6;
  new DataView(bin.buffer).setUint32(1, blob.bytes.length);
  return [head.subarray(0, head.length - 2), bin, blob.bytes];
}

export function encodeKernelMessage(km: KernelMessage): Uint8Array {
  const m = km.message;
  const message = "Request" in m
    ? {
      Request: [
        m.Request.inherit,
        m.Request.expects_response,
        m.Request.body,
        m.Request.metadata,
        caps(m.Request.capabilities),
      ],
    }
    : {
      Response: [
        [m.Response[0].inherit, m.Response[0].body, m.Response[0].metadata, caps(m.Response[0].capabilities)],
        m.Response[1],
      ],
    };
  return encode([km.id, km.source, km.target, km.rsvp, message, blob(km.lazy_load_blob)], { useBigInt64: false });
}

function decodeCaps(v: unknown): Capability[] {
  if (!Array.isArray(v)) throw new ParseError("capabilities must be an array");
  return v.map((c) => {
    if (!Array.isArray(c) || typeof c[0] !== "string" || typeof c[1] !== "string") {
      throw new ParseError("bad capability");
    }
    parseAddress(c[0]);
    return { issuer: c[0], params: c[1] };
  });
}

const str = (v: unknown, what: string): string | null => {
  if (v === null || v === undefined) return null;
  if (typeof v !== "string") throw new ParseError(`${what} must be a string`);
  return v;
};

/** Decodes and validates a KernelMessage from a peer; every field is checked. */
export function decodeKernelMessage(bytes: Uint8Array): KernelMessage {
  const v = decoded(bytes, "KernelMessage");
  if (!Array.isArray(v) || v.length !== 6) throw new ParseError("malformed KernelMessage");
  const [id, source, target, rsvp, message, lazy] = v;
  if (typeof id !== "number" && typeof id !== "bigint") throw new ParseError("KernelMessage id must be a number");
  if (typeof source !== "string" || typeof target !== "string") throw new ParseError("addresses must be strings");
  parseAddress(source);
  parseAddress(target);
  if (rsvp !== null) parseAddress(str(rsvp, "rsvp")!);
  let msg: Message;
  if (message && typeof message === "object" && "Request" in message) {
    const r = (message as { Request: unknown[] }).Request;
    if (!Array.isArray(r) || r.length !== 5) throw new ParseError("malformed Request");
    const er = r[1];
    if (er !== null && (typeof er !== "number" || !(er >= 0))) throw new ParseError("bad expects_response");
    msg = {
      Request: {
        inherit: Boolean(r[0]),
        expects_response: er as number | null,
        body: toBytes(r[2], "body"),
        metadata: str(r[3], "metadata"),
        capabilities: decodeCaps(r[4]),
      },
    };
  } else if (message && typeof message === "object" && "Response" in message) {
    const [resp, ctx] = (message as { Response: unknown[] }).Response ?? [];
    if (!Array.isArray(resp) || resp.length !== 4) throw new ParseError("malformed Response");
    msg = {
      Response: [
        {
          inherit: Boolean(resp[0]),
          body: toBytes(resp[1], "body"),
          metadata: str(resp[2], "metadata"),
          capabilities: decodeCaps(resp[3]),
        },
        ctx === null || ctx === undefined ? null : toBytes(ctx, "context"),
      ],
    };
  } else throw new ParseError("message must be Request or Response");
  let b: LazyLoadBlob | null = null;
  if (lazy !== null && lazy !== undefined) {
    if (!Array.isArray(lazy) || lazy.length !== 2) throw new ParseError("malformed blob");
    b = { mime: str(lazy[0], "mime"), bytes: toBytes(lazy[1], "blob") };
  }
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n < 0) throw new ParseError("KernelMessage id out of range");
  return { id: n, source, target, rsvp: rsvp as string | null, message: msg, lazy_load_blob: b };
}

/** The net module's own messages (NetAction / NetResponse) are MessagePack too. */
export function encodeNet(v: unknown): Uint8Array {
  return encode(v);
}

export function decodeNet(bytes: Uint8Array): unknown {
  return decoded(bytes, "NetAction");
}
