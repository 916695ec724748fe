/**
 * The one vocabulary of hyperdeno: addresses, capabilities, messages and the
 * errors that cross message boundaries. Names and JSON shapes follow the
 * Hyperware Book so that its examples drive a hyperdeno node unchanged.
 *
 * Addresses and process ids travel as their strings ("node@proc:pkg:pub");
 * the parse functions here are the only place that knows their grammar.
 */

/** A typed error for bad input at any boundary; it always says what was wrong. */
export class ParseError extends Error {
  override name = "ParseError";
}

// ---------------------------------------------------------------- identifiers

/** `[process-name]:[package-name]:[publisher-node]` */
export type ProcessId = string;
/** `[package-name]:[publisher-node]` */
export type PackageId = string;
/** `[node]@[process-name]:[package-name]:[publisher-node]` */
export type Address = string;

const NAME_RE = /^[a-z0-9-]+$/;
const NODE_RE = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;
/** Longest node or name segment accepted; Hypermap names are far shorter. */
const MAX_SEGMENT = 255;

/** The book's "Hypermap-safe" rule for package and process names: a-z, 0-9, `-`. */
export function isSafeName(s: string): boolean {
  return s.length > 0 && s.length <= MAX_SEGMENT && NAME_RE.test(s);
}

/** Node names (and publishers) may also contain `.`. */
export function isSafeNode(s: string): boolean {
  return s.length > 0 && s.length <= MAX_SEGMENT && NODE_RE.test(s);
}

export interface ParsedProcessId {
  processName: string;
  packageName: string;
  publisherNode: string;
}

export function parseProcessId(s: string): ParsedProcessId {
  if (typeof s !== "string") throw new ParseError("process id must be a string");
  const parts = s.split(":");
  if (parts.length !== 3) {
    throw new ParseError(
      `bad process id "${clip(s)}": expected process-name:package-name:publisher-node`,
    );
  }
  const [processName, packageName, publisherNode] = parts;
  if (!isSafeName(processName)) {
    throw new ParseError(`bad process name "${clip(processName)}": use a-z, 0-9 and -`);
  }
  if (!isSafeName(packageName)) {
    throw new ParseError(`bad package name "${clip(packageName)}": use a-z, 0-9 and -`);
  }
  if (!isSafeNode(publisherNode)) {
    throw new ParseError(`bad publisher node "${clip(publisherNode)}": use a-z, 0-9, - and .`);
  }
  return { processName, packageName, publisherNode };
}

export function formatProcessId(p: ParsedProcessId): ProcessId {
  return `${p.processName}:${p.packageName}:${p.publisherNode}`;
}

export function parsePackageId(s: string): { packageName: string; publisherNode: string } {
  if (typeof s !== "string") throw new ParseError("package id must be a string");
  const parts = s.split(":");
  if (parts.length !== 2 || !isSafeName(parts[0]) || !isSafeNode(parts[1])) {
    throw new ParseError(`bad package id "${clip(s)}": expected package-name:publisher-node`);
  }
  return { packageName: parts[0], publisherNode: parts[1] };
}

/** The package a process belongs to: `ping:ping:template.os` → `ping:template.os`. */
export function packageOf(process: ProcessId): PackageId {
  const p = parseProcessId(process);
  return `${p.packageName}:${p.publisherNode}`;
}

export interface ParsedAddress {
  node: string;
  process: ProcessId;
}

/**
 * Parses `node@proc:pkg:pub`. `our` (the book's shorthand) is replaced by
 * `ourNode` when it is given, and refused otherwise.
 */
export function parseAddress(s: string, ourNode?: string): ParsedAddress {
  if (typeof s !== "string") throw new ParseError("address must be a string");
  const at = s.indexOf("@");
  if (at < 0 || at !== s.lastIndexOf("@")) {
    throw new ParseError(
      `bad address "${clip(s)}": expected node@process-name:package-name:publisher-node`,
    );
  }
  let node = s.slice(0, at);
  const process = s.slice(at + 1);
  if (node === "our") {
    if (ourNode === undefined) throw new ParseError(`"our" is not known here: name the node`);
    node = ourNode;
  }
  if (!isSafeNode(node)) throw new ParseError(`bad node name "${clip(node)}": use a-z, 0-9, - and .`);
  parseProcessId(process);
  return { node, process };
}

export function formatAddress(node: string, process: ProcessId): Address {
  return `${node}@${process}`;
}

/** The node part of an address known to be well formed. */
export function nodeOf(a: Address): string {
  return a.slice(0, a.indexOf("@"));
}

/** The process part of an address known to be well formed. */
export function processOf(a: Address): ProcessId {
  return a.slice(a.indexOf("@") + 1);
}

function clip(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + "..." : s;
}

// ---------------------------------------------------------------- capabilities

/** An unforgeable token issued by `issuer`; `params` is a JSON string. */
export interface Capability {
  issuer: Address;
  params: string;
}

/** The params of the capability to message a process. */
export const MESSAGING = '"messaging"';
/** The params of the kernel's networking capability. */
export const NETWORK = '"network"';
/** The params of the kernel's root capability: message anything, use the network. */
export const ROOT = '"root"';

/**
 * One canonical string per capability, so that `{"a":1,"b":2}` and
 * `{"b":2, "a":1}` are the same token.
 */
export function capKey(c: Capability): string {
  return `${c.issuer}\u0000${canonicalJson(c.params)}`;
}

export function canonicalJson(params: string): string {
  // Plain JSON strings and numbers ('"messaging"') are canonical already.
  if (!/[{\[\s]/.test(params)) return params;
  try {
    return JSON.stringify(sortKeys(JSON.parse(params)));
  } catch {
    return params;
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

export function validateCapability(c: unknown): Capability {
  if (!c || typeof c !== "object") throw new ParseError("capability must be an object {issuer, params}");
  const { issuer, params } = c as Record<string, unknown>;
  if (typeof issuer !== "string") throw new ParseError("capability issuer must be an address string");
  parseAddress(issuer);
  if (typeof params !== "string") throw new ParseError("capability params must be a JSON string");
  return { issuer, params };
}

// ---------------------------------------------------------------- messages

/** Bytes kept beside a message; a process loads them only if it asks. */
export interface LazyLoadBlob {
  mime: string | null;
  bytes: Uint8Array;
}

export interface Request {
  inherit: boolean;
  /** Timeout in seconds; null when no response is expected. */
  expects_response: number | null;
  body: Uint8Array;
  metadata: string | null;
  capabilities: Capability[];
}

export interface Response {
  inherit: boolean;
  body: Uint8Array;
  metadata: string | null;
  capabilities: Capability[];
}

/** Externally tagged, as serde writes the book's `Message` enum. */
export type Message =
  | { Request: Request }
  | { Response: [Response, Uint8Array | null] };

export function isRequest(m: Message): m is { Request: Request } {
  return "Request" in m;
}

/** The book's u64 message id: random, as the reference draws it, so it needs all 64 bits. */
export type MessageId = bigint;

export interface KernelMessage {
  id: MessageId;
  source: Address;
  target: Address;
  /** Where a response goes, when it is not the source (inherited requests). */
  rsvp: Address | null;
  message: Message;
  lazy_load_blob: LazyLoadBlob | null;
}

export type SendErrorKind = "Offline" | "Timeout";

/** The only two errors a send can come back with, carrying the original message. */
export interface SendError {
  kind: SendErrorKind;
  target: Address;
  message: Message;
  lazy_load_blob: LazyLoadBlob | null;
}

/** What the kernel does when a process exits. */
export type OnExit =
  | "None"
  | "Restart"
  | { Requests: [Address, Request, LazyLoadBlob | null][] };

export function validateOnExit(v: unknown): OnExit {
  if (v === "None" || v === "Restart") return v;
  if (v && typeof v === "object" && Array.isArray((v as { Requests?: unknown }).Requests)) {
    const reqs = (v as { Requests: unknown[] }).Requests.map((r) => {
      if (!Array.isArray(r) || r.length < 2) {
        throw new ParseError("each OnExit request must be [address, request, blob|null]");
      }
      parseAddress(r[0] as string);
      return [r[0], validateRequest(r[1]), r[2] ? validateBlob(r[2]) : null] as [
        Address,
        Request,
        LazyLoadBlob | null,
      ];
    });
    return { Requests: reqs };
  }
  throw new ParseError(`bad on_exit ${JSON.stringify(v)}: use "None", "Restart" or {"Requests": [...]}`);
}

// ---------------------------------------------------------------- validation of untrusted shapes

export function toBytes(v: unknown, what: string): Uint8Array {
  // Not over shared memory: its owner could change the bytes after they were checked, or while they are copied.
  if (v instanceof Uint8Array) {
    if (v.buffer instanceof ArrayBuffer) return v;
    throw new ParseError(`${what} must be bytes of their own, not shared memory`);
  }
  if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) {
    return Uint8Array.from(v as number[]);
  }
  throw new ParseError(`${what} must be bytes`);
}

export function validateBlob(v: unknown): LazyLoadBlob {
  if (!v || typeof v !== "object") throw new ParseError("blob must be {mime, bytes}");
  const { mime, bytes } = v as Record<string, unknown>;
  if (mime !== null && mime !== undefined && typeof mime !== "string") {
    throw new ParseError("blob mime must be a string or null");
  }
  return { mime: (mime as string | null | undefined) ?? null, bytes: toBytes(bytes, "blob bytes") };
}

function validateCommon(o: Record<string, unknown>) {
  const metadata = o.metadata ?? null;
  if (metadata !== null && typeof metadata !== "string") throw new ParseError("metadata must be a string or null");
  const caps = o.capabilities ?? [];
  if (!Array.isArray(caps)) throw new ParseError("capabilities must be an array");
  return {
    inherit: Boolean(o.inherit),
    body: toBytes(o.body ?? new Uint8Array(), "body"),
    metadata: metadata as string | null,
    capabilities: caps.map(validateCapability),
  };
}

export function validateRequest(v: unknown): Request {
  if (!v || typeof v !== "object") throw new ParseError("request must be an object");
  const o = v as Record<string, unknown>;
  const er = o.expects_response ?? null;
  if (er !== null && (typeof er !== "number" || !(er >= 0) || !Number.isFinite(er))) {
    throw new ParseError("expects_response must be a number of seconds or null");
  }
  return { ...validateCommon(o), expects_response: er as number | null };
}

export function validateMessage(v: unknown): Message {
  if (!v || typeof v !== "object") throw new ParseError("message must be {Request} or {Response}");
  if ("Request" in v) return { Request: validateRequest((v as { Request: unknown }).Request) };
  if ("Response" in v) {
    const r = (v as { Response: unknown }).Response;
    if (!Array.isArray(r) || r.length !== 2) throw new ParseError("Response must be [response, context]");
    if (!r[0] || typeof r[0] !== "object") throw new ParseError("response must be an object");
    return {
      Response: [validateCommon(r[0] as Record<string, unknown>), r[1] == null ? null : toBytes(r[1], "context")],
    };
  }
  throw new ParseError("message must be {Request} or {Response}");
}

// ---------------------------------------------------------------- bytes helpers

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const utf8 = (s: string): Uint8Array => encoder.encode(s);
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b);
export const jsonBytes = (v: unknown): Uint8Array => encoder.encode(JSON.stringify(v));

const U64_MAX = (1n << 64n) - 1n;

/** A u64, the only thing a message id may be (processes and peers can send anything). */
export function isMessageId(v: unknown): v is MessageId {
  return typeof v === "bigint" && v >= 0n && v <= U64_MAX;
}

const idBuffer = new BigUint64Array(64);
let idsLeft = 0;

/** A random u64 message id, as the reference draws them (64 at a time: one call to the random source). */
export function randomId(): MessageId {
  if (idsLeft === 0) {
    crypto.getRandomValues(idBuffer);
    idsLeft = idBuffer.length;
  }
  return idBuffer[--idsLeft];
}
