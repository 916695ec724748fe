/**
 * The batch encoding between kernel and workers. Structured clone is the
 * cost of a message here: nested objects clone ~3× slower than flat arrays,
 * and each small Uint8Array costs more than the rest of its message. So the
 * frequent messages travel as flat rows, and their small byte fields are
 * packed into one buffer per batch (receivers get views into it). Rare
 * messages travel as they are.
 */
import type { Capability, KernelMessage, LazyLoadBlob, Message, MessageId } from "../types.ts";

/** types.ts's isMessageId: the process host reads only its own files (kernel/sandbox.ts), so not imported. */
const isMessageId = (v: unknown): v is MessageId => typeof v === "bigint" && v >= 0n && v < 1n << 64n;
import type { FromProcess, ToProcess } from "./protocol.ts";

/** Byte fields up to this size share the batch buffer; larger ones travel alone. */
const SMALL = 2048;
const LEN_BITS = 4096;
/** An empty byte field: no room needed in the batch buffer. */
const EMPTY = -1;

export interface Batch {
  rows: unknown[][];
  bytes: Uint8Array | null;
}

class Packer {
  parts: Uint8Array[] = [];
  size = 0;
  put(b: Uint8Array | null): unknown {
    if (b === null || b === undefined) return null;
    if (b.length === 0) return EMPTY;
    if (b.length > SMALL) return b;
    const off = this.size;
    this.parts.push(b);
    this.size += b.length;
    return off * LEN_BITS + b.length;
  }
  done(): Uint8Array | null {
    if (this.size === 0) return null;
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

function take(bytes: Uint8Array | null, v: unknown): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (v === EMPTY) return new Uint8Array();
  if (typeof v === "number") {
    const off = Math.floor(v / LEN_BITS), len = v % LEN_BITS;
    return bytes!.subarray(off, off + len);
  }
  return v as Uint8Array;
}

function inner(m: Message) {
  return "Request" in m ? m.Request : m.Response[0];
}

function caps(c: Capability[]): Capability[] | null {
  return c.length ? c : null;
}

// ---------------------------------------------------------------- kernel → process

export function encodeToProcess(msgs: ToProcess[]): Batch {
  const p = new Packer();
  const rows = msgs.map((m): unknown[] => {
    if (m.t !== "msg") return [m];
    const km = m.km, i = inner(km.message), isReq = "Request" in km.message;
    return [
      km.id,
      km.source,
      km.target,
      km.rsvp,
      isReq ? (km.message as { Request: { expects_response: number | null } }).Request.expects_response ?? -1 : -2,
      i.inherit,
      p.put(i.body),
      i.metadata,
      caps(i.capabilities),
      p.put(isReq ? null : (km.message as { Response: [unknown, Uint8Array | null] }).Response[1]),
      p.put(m.context),
      km.lazy_load_blob ? km.lazy_load_blob.mime ?? "" : m.withheld ? m.withheld.mime ?? "" : null,
      p.put(km.lazy_load_blob?.bytes ?? null),
      m.withheld ? m.withheld.size : null,
    ];
  });
  return { rows, bytes: p.done() };
}

export function decodeToProcess(b: Batch): ToProcess[] {
  return b.rows.map((r): ToProcess => {
    if (r.length === 1) return r[0] as ToProcess;
    const expects = r[4] as number;
    const body = take(b.bytes, r[6])!;
    const metadata = r[7] as string | null;
    const capabilities = (r[8] as Capability[] | null) ?? [];
    const inherit = r[5] as boolean;
    const message: Message = expects === -2
      ? { Response: [{ inherit, body, metadata, capabilities }, take(b.bytes, r[9])] }
      : { Request: { inherit, expects_response: expects === -1 ? null : expects, body, metadata, capabilities } };
    const withheld = typeof r[13] === "number" ? { mime: (r[11] as string) || null, size: r[13] } : null;
    const blob: LazyLoadBlob | null = r[11] === null || withheld
      ? null
      : { mime: (r[11] as string) || null, bytes: take(b.bytes, r[12])! };
    const km: KernelMessage = {
      id: r[0] as MessageId,
      source: r[1] as string,
      target: r[2] as string,
      rsvp: r[3] as string | null,
      message,
      lazy_load_blob: blob,
    };
    return { t: "msg", km, context: take(b.bytes, r[10]), withheld };
  });
}

// ---------------------------------------------------------------- process → kernel

export function encodeFromProcess(msgs: FromProcess[]): Batch {
  const p = new Packer();
  const rows = msgs.map((m): unknown[] => {
    if (m.t !== "send") return [m];
    const i = inner(m.message), isReq = "Request" in m.message;
    return [
      m.id,
      m.target,
      isReq ? (m.message as { Request: { expects_response: number | null } }).Request.expects_response ?? -1 : -2,
      i.inherit,
      p.put(i.body),
      i.metadata,
      caps(i.capabilities),
      m.blob ? m.blob.mime ?? "" : null,
      p.put(m.blob?.bytes ?? null),
      m.prompt,
      m.blobFrom,
      p.put(m.context ?? null),
      m.keepBlob ? 1 : 0,
      m.withheld ? 1 : 0,
    ];
  });
  return { rows, bytes: p.done() };
}

/**
 * Decodes a batch from an untrusted worker. Shapes are not trusted here:
 * the kernel validates every message it decodes.
 */
export function decodeFromProcess(b: Batch): FromProcess[] {
  if (!b || !Array.isArray(b.rows)) return [];
  const bytes = b.bytes instanceof Uint8Array ? unshared(b.bytes) : null;
  return b.rows.map((r): FromProcess => {
    if (!Array.isArray(r)) return { t: "bad" } as unknown as FromProcess;
    // A rare kind as it is; never a send, which the bootstrap always writes field by field: one that came whole (its
    // kind read "send" only as it was cloned) skipped every check here, shared memory included (found by a review).
    if (r.length === 1) {
      return (r[0] as { t?: unknown } | null)?.t === "send"
        ? { t: "bad" } as unknown as FromProcess
        : r[0] as FromProcess;
    }
    const expects = r[2];
    const body = safeTake(bytes, r[4]) ?? new Uint8Array();
    const inherit = Boolean(r[3]);
    const metadata = r[5] as string | null;
    const capabilities = (r[6] ?? []) as Capability[];
    const message = expects === -2
      ? { Response: [{ inherit, body, metadata, capabilities }, null] }
      : { Request: { inherit, expects_response: expects === -1 ? null : expects, body, metadata, capabilities } };
    return {
      t: "send",
      id: r[0] as MessageId,
      target: r[1] as string,
      message: message as Message,
      blob: r[7] === null || r[7] === undefined
        ? null
        : { mime: (r[7] as string) || null, bytes: safeTake(bytes, r[8]) ?? new Uint8Array() },
      prompt: isMessageId(r[9]) ? r[9] : null,
      blobFrom: isMessageId(r[10]) ? r[10] : null,
      context: safeTake(bytes, r[11]),
      keepBlob: r[12] === 1,
      withheld: r[13] === 1,
    };
  });
}

/** Like take, but a worker's offsets are checked against the buffer it sent. */
function safeTake(bytes: Uint8Array | null, v: unknown): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return unshared(v);
  if (v === EMPTY) return new Uint8Array();
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || !bytes) return null;
  const off = Math.floor(v / LEN_BITS), len = v % LEN_BITS;
  if (off + len > bytes.length) return null;
  return bytes.subarray(off, off + len);
}

/**
 * Memory a worker shares (a SharedArrayBuffer, a shared WebAssembly.Memory)
 * would let it change bytes after the kernel checked them, or reach another
 * process they are forwarded to: such bytes are refused.
 */
function unshared(v: Uint8Array): Uint8Array | null {
  return v.buffer instanceof ArrayBuffer ? v : null;
}
