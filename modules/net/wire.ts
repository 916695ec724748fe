/**
 * The one place that knows the node-to-node wire's MessagePack: the shapes
 * rmp-serde's defaults give the reference node's types (structs as arrays in
 * field order; enums externally tagged, a unit variant as its name and any
 * other as a one-entry map; `None` as nil; addresses and process ids as their
 * strings; `Vec<u8>` as an array of integers). The framing around these bytes
 * is in handshake.ts; README "The wire" states all of it.
 *
 * Two hyperdeno nodes may carry `Vec<u8>` as bin instead (ByteForm "bin"),
 * which each side offers by writing its HandshakePayload's array header in
 * the 16-bit form: any MessagePack decoder, rmp-serde included, reads that as
 * the same four-element array, so a reference peer never notices the offer
 * and never receives bin. The header is inside the Noise handshake hash, so a
 * man in the middle cannot add or remove the offer.
 */
import { decode } from "@msgpack/msgpack";
import {
  type Capability,
  isMessageId,
  type KernelMessage,
  type LazyLoadBlob,
  type Message,
  parseAddress,
  ParseError,
} from "../../runtime/types.ts";
import { type ByteForm, Reader, Writer } from "./msgpack.ts";

export type { ByteForm };

export const PROTOCOL_VERSION = 1;
/** The largest serialized KernelMessage either transport carries (the reference's MESSAGE_MAX_SIZE). */
export const MAX_KERNEL_MESSAGE = 10_485_800;

export interface HandshakePayload {
  protocol_version: number;
  name: string;
  /** Ed25519(networking key, this connection's Noise static public key). */
  signature: Uint8Array;
  proxy_request: boolean;
}

export interface RoutingRequest {
  protocol_version: number;
  source: string;
  /** Ed25519(source's networking key, UTF-8 of target name followed by router name). */
  signature: Uint8Array;
  target: string;
}

/** A capability as it travels: `[[issuer, params], signature]`, signed by the issuing node. */
export interface SignedCapability {
  cap: Capability;
  signature: Uint8Array;
}

// ---------------------------------------------------------------- handshake

/** `offerBin`: write the 16-bit array header that tells another hyperdeno node we read bin. */
export function encodeHandshake(p: HandshakePayload, offerBin = false): Uint8Array {
  const w = new Writer();
  (offerBin ? w.wideArray(4) : w.array(4)).uint(p.protocol_version).str(p.name).bytes(p.signature, "ints")
    .bool(p.proxy_request);
  return w.finish();
}

export function decodeHandshake(bytes: Uint8Array): { payload: HandshakePayload; offersBin: boolean } {
  const r = new Reader(bytes, "HandshakePayload");
  const { len, wide } = r.arrayHeader();
  if (len !== 4) throw new ParseError(`HandshakePayload has ${len} fields, not 4`);
  const payload = { protocol_version: r.uint(255), name: r.str(), signature: r.bytes(), proxy_request: r.bool() };
  r.end();
  return { payload, offersBin: wide };
}

export function encodeRouting(rr: RoutingRequest): Uint8Array {
  return new Writer().array(4).uint(rr.protocol_version).str(rr.source).bytes(rr.signature, "ints").str(rr.target)
    .finish();
}

export function decodeRouting(bytes: Uint8Array): RoutingRequest {
  const r = new Reader(bytes, "RoutingRequest");
  r.struct(4, "RoutingRequest");
  const rr = { protocol_version: r.uint(255), source: r.str(), signature: r.bytes(), target: r.str() };
  r.end();
  return rr;
}

// ---------------------------------------------------------------- capabilities

/** The bytes a capability's issuer signs: the MessagePack of `[issuer, params]`. */
export function capabilitySigningBytes(cap: Capability): Uint8Array {
  return new Writer().array(2).str(cap.issuer).str(cap.params).finish();
}

// ---------------------------------------------------------------- KernelMessage

/** Gives the signature to send with each capability (the net module signs ours, remembers others'). */
export type CapabilitySigner = (cap: Capability) => Uint8Array;

function writeCaps(w: Writer, caps: Capability[], sign: CapabilitySigner, form: ByteForm) {
  w.array(caps.length);
  for (const c of caps) w.array(2).array(2).str(c.issuer).str(c.params).bytes(sign(c), form);
}

/**
 * A KernelMessage as parts whose concatenation is its MessagePack. In the
 * bin form a large blob's bytes are a part of their own, uncopied.
 */
export function encodeKernelMessage(km: KernelMessage, form: ByteForm, sign: CapabilitySigner): Uint8Array[] {
  const w = new Writer();
  w.array(6).uint(km.id).str(km.source).str(km.target).optStr(km.rsvp).map(1);
  const m = km.message;
  if ("Request" in m) {
    const q = m.Request;
    w.str("Request").array(5).bool(q.inherit);
    if (q.expects_response === null) w.nil();
    else w.uint(q.expects_response);
    w.bytes(q.body, form).optStr(q.metadata);
    writeCaps(w, q.capabilities, sign, form);
  } else {
    const [p, context] = m.Response;
    w.str("Response").array(2).array(4).bool(p.inherit).bytes(p.body, form).optStr(p.metadata);
    writeCaps(w, p.capabilities, sign, form);
    w.optBytes(context, form);
  }
  const blob = km.lazy_load_blob;
  if (blob === null) w.nil();
  else w.array(2).optStr(blob.mime).bytes(blob.bytes, form);
  return w.parts();
}

/** A decoded KernelMessage and the signatures that came with its capabilities, in order. */
export interface ReceivedMessage {
  km: KernelMessage;
  signatures: Uint8Array[];
}

function readCaps(r: Reader, signatures: Uint8Array[]): Capability[] {
  const n = r.array();
  const caps: Capability[] = [];
  for (let i = 0; i < n; i++) {
    r.struct(2, "capability");
    r.struct(2, "Capability");
    const issuer = r.str();
    parseAddress(issuer);
    caps.push({ issuer, params: r.str() });
    signatures.push(r.bytes());
  }
  return caps;
}

function readAddress(r: Reader): string {
  const a = r.str();
  parseAddress(a);
  return a;
}

/**
 * Decodes and validates a KernelMessage from a peer (either byte form); every
 * field is checked. Large byte fields (a blob) are views of `bytes`, not
 * copies: the caller hands the buffer over.
 */
export function decodeKernelMessage(bytes: Uint8Array): ReceivedMessage {
  const r = new Reader(bytes, "KernelMessage");
  r.struct(6, "KernelMessage");
  const id = r.uint64();
  const source = readAddress(r);
  const target = readAddress(r);
  const rsvp = r.nil() ? null : readAddress(r);
  const signatures: Uint8Array[] = [];
  const { name, hasData } = r.variant();
  if (!hasData) throw new ParseError(`KernelMessage: message must be Request or Response, not ${name}`);
  let message: Message;
  if (name === "Request") {
    r.struct(5, "Request");
    const inherit = r.bool();
    const expects_response = r.nil() ? null : r.uint(Number.MAX_SAFE_INTEGER);
    message = {
      Request: {
        inherit,
        expects_response,
        body: r.bytes(),
        metadata: r.optStr(),
        capabilities: readCaps(r, signatures),
      },
    };
  } else if (name === "Response") {
    r.struct(2, "Response tuple");
    r.struct(4, "Response");
    const inner = { inherit: r.bool(), body: r.bytes(), metadata: r.optStr(), capabilities: readCaps(r, signatures) };
    message = { Response: [inner, r.optBytes()] };
  } else throw new ParseError(`KernelMessage: message must be Request or Response, not ${name}`);
  let blob: LazyLoadBlob | null = null;
  if (!r.nil()) {
    r.struct(2, "LazyLoadBlob");
    blob = { mime: r.optStr(), bytes: r.bytes() };
  }
  r.end();
  if (!isMessageId(id)) throw new ParseError("KernelMessage id is not a u64");
  return { km: { id, source, target, rsvp, message, lazy_load_blob: blob }, signatures };
}

/** Any MessagePack body, for the net module's own requests; a ParseError when it is not MessagePack. */
export function decodeNetBody(bytes: Uint8Array): unknown {
  try {
    return decode(bytes, { maxStrLength: MAX_KERNEL_MESSAGE, maxBinLength: MAX_KERNEL_MESSAGE });
  } catch (e) {
    throw new ParseError(`not MessagePack: ${(e as Error).message}`);
  }
}
