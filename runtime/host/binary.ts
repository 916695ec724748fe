/**
 * The batch format on a process host's pipe (pipe.ts frames, thread ≠ 0): the
 * kernel and a process's bootstrap write and read it; the host in between
 * only stamps each frame's header. It replaces node:v8 serialization of the
 * row batches (wire.ts), which cost ~3 µs a message in the kernel and built
 * an array per message on each side: here a message is written once, field
 * by field, into one buffer that already has room for its frame header, and
 * read back into the kernel's shapes with no intermediate.
 *
 * A batch: u32 count, then per message a u8 kind and its fields. `send`
 * (process → kernel) and `msg` (kernel → process) are laid out field by
 * field; `took` is a u32; every other message (rare: init, print, spawn...)
 * is a u32 length and node:v8 bytes. Integers are big-endian; ids are u64;
 * expects_response is an f64 (-1: none, -2: a response); a string is a u32
 * byte length and UTF-8; a byte field is a u32 length (0xffffffff: null) and
 * its bytes.
 *
 * What a host sends is untrusted: the reader checks every length against the
 * bytes left and throws MalformedBatch, which ends that host alone.
 */
import { deserialize, serialize } from "node:v8";
import type { Capability, KernelMessage, LazyLoadBlob, Message, MessageId, SendErrorKind } from "../types.ts";
import type { FromProcess, ToProcess } from "./protocol.ts";
import { FRAME_HEADER } from "./pipe.ts";

const OTHER = 0, MSG = 1, SEND = 2, TOOK = 3, ERR = 4;
const NULL = 0xffffffff;
/** A byte field that is one written before in the batch: its offset and length follow. */
const REF = 0xfffffffe;
/** Byte fields this large are written once a batch, however many messages carry them. */
const SHARED_FROM = 4096;
const NO_EXPECTS = -1, RESPONSE = -2;
/** Send flags. */
const INHERIT = 1, KEEP_BLOB = 2, WITHHELD = 4, PROMPT = 8, BLOB_FROM = 16, BLOB = 32;
const INITIAL = 4096;
/** Room for one message's lengths, flags, ids and numbers. */
const FIXED = 96;
/** A batch buffer past this grows by an eighth, not twice. */
const BIG = 1 << 20;
/** Strings this short are interned (see interned). */
const SHORT = 64;
/** Byte fields are views when the bytes they came in are this small (a read's chunk is 64 KiB). */
const VIEW_WITHIN = 64 * 1024;
/**
 * Kernel → host, byte fields this large are not copied into the batch's buffer: the batch goes to the pipe as parts,
 * the field's own bytes among them (a transfer's chunk was copied once more, into a buffer made for it, on its way to
 * the process that hashes it; `deno task bench network`'s receiving node spent ~0.5 CPU-s a GiB on that).
 */
const DIRECT_FROM = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A batch a process host sent that does not parse: its host is ended, and the node goes on. */
export class MalformedBatch extends Error {
  override name = "MalformedBatch";
}

class Writer {
  /** Large byte fields written so far, by object: where their bytes start. */
  written = new Map<Uint8Array, number>();
  buf: Uint8Array;
  view: DataView;
  pos = FRAME_HEADER + 4;
  /** With `direct`: the batch so far, as the buffer's segments and the large fields between them. */
  private parts: Uint8Array[] = [];
  /** Where the buffer's current segment starts, and the bytes of the large fields outside the buffer so far. */
  private cut = 0;
  private outside = 0;

  /**
   * `size`: the bytes of the batch's byte fields, so a batch of large blobs is not copied as its buffer grows.
   * `direct`: large byte fields stay outside the buffer (see DIRECT_FROM).
   */
  constructor(size: number, private direct = false) {
    this.buf = new Uint8Array(INITIAL + size);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number) {
    if (this.pos + n <= this.buf.length) return;
    // Doubling a buffer of large blobs would allocate (and, here, fault in) as much again as it holds.
    const grown = this.buf.length < BIG ? this.buf.length * 2 : this.buf.length + (this.buf.length >> 3);
    const next = new Uint8Array(Math.max(grown, this.pos + n + INITIAL));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number) {
    this.room(1);
    this.buf[this.pos++] = v;
  }
  u32(v: number) {
    this.room(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  f64(v: number) {
    this.room(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }
  id(v: MessageId) {
    this.room(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }
  str(s: string) {
    const n = s.length;
    this.room(4 + n * 3);
    const start = this.pos + 4, buf = this.buf;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    const len = i === n ? n : i + encoder.encodeInto(s.slice(i), buf.subarray(start + i)).written;
    this.view.setUint32(this.pos, len);
    this.pos = start + len;
  }
  nstr(s: string | null | undefined) {
    if (s === null || s === undefined) this.u32(NULL);
    else this.str(s);
  }
  bytes(b: Uint8Array | null | undefined) {
    if (b === null || b === undefined) return this.u32(NULL);
    if (b.length >= SHARED_FROM) {
      // The same bytes again in this batch (one blob sent to many): a reference to the first copy.
      const at = this.written.get(b);
      if (at !== undefined) {
        this.u32(REF);
        this.u32(at);
        this.u32(b.length);
        return;
      }
      // Offsets count from the payload, as the reader sees it (after the frame header).
      this.written.set(b, this.outside + this.pos + 4 - FRAME_HEADER);
    }
    if (this.direct && b.length >= DIRECT_FROM) {
      this.u32(b.length);
      this.parts.push(this.buf.subarray(this.cut, this.pos), b);
      this.cut = this.pos;
      this.outside += b.length;
      return;
    }
    this.room(4 + b.length);
    this.view.setUint32(this.pos, b.length);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
  }
  caps(c: Capability[]) {
    this.u32(c.length);
    for (const cap of c) {
      this.str(cap.issuer);
      this.str(cap.params);
    }
  }
  /** The frame: header room (zeroes), count, messages. */
  done(count: number): Uint8Array {
    this.view.setUint32(FRAME_HEADER, count);
    return this.buf.subarray(0, this.pos);
  }
  /** The frame as parts to write in order, the first with the header room (`direct`). */
  doneParts(count: number): Uint8Array[] {
    if (this.pos > this.cut || this.parts.length === 0) this.parts.push(this.buf.subarray(this.cut, this.pos));
    // Into the first segment, which may be in a buffer the writer has outgrown since.
    const first = this.parts[0];
    new DataView(first.buffer, first.byteOffset, first.byteLength).setUint32(FRAME_HEADER, count);
    return this.parts;
  }
}

class Reader {
  /** Large byte fields read so far, by where their bytes start: what a reference resolves to. */
  private shared = new Map<number, Uint8Array>();
  private view: DataView;
  pos: number;
  constructor(private buf: Uint8Array, start: number) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
  }
  private need(n: number, what: string) {
    if (this.pos + n > this.buf.length) {
      throw new MalformedBatch(`a ${what} of ${n} bytes at byte ${this.pos} runs past its batch of ${this.buf.length}`);
    }
  }
  get left(): number {
    return this.buf.length - this.pos;
  }
  u8(): number {
    this.need(1, "field");
    return this.buf[this.pos++];
  }
  u32(): number {
    this.need(4, "length");
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8, "number");
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }
  id(): MessageId {
    this.need(8, "message id");
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  str(): string {
    const n = this.u32();
    this.need(n, "string");
    const buf = this.buf, start = this.pos;
    this.pos += n;
    return n <= SHORT ? interned(buf, start, n) : decoder.decode(buf.subarray(start, start + n));
  }
  nstr(): string | null {
    if (this.peekNull()) return null;
    return this.str();
  }
  bytes(): Uint8Array | null {
    const at = this.pos, n = this.u32();
    if (n === NULL) return null;
    if (n === REF) {
      const from = this.u32(), len = this.u32();
      if (from + len > at) throw new MalformedBatch(`a reference at byte ${at} to bytes not before it`);
      // The same object as the first copy, so it is one again when passed on.
      const first = this.shared.get(from);
      return first?.length === len ? first : own(this.buf.subarray(from, from + len));
    }
    this.need(n, "byte field");
    const b = own(this.buf.subarray(this.pos, this.pos + n));
    if (n >= SHARED_FROM) this.shared.set(this.pos, b);
    this.pos += n;
    return b;
  }
  caps(): Capability[] {
    const n = this.u32();
    // Each capability takes at least its two lengths.
    this.need(n * 8, "capability list");
    const out: Capability[] = [];
    for (let i = 0; i < n; i++) out.push({ issuer: this.str(), params: this.str() });
    return out;
  }
  other(): unknown {
    const b = this.bytes();
    if (b === null) throw new MalformedBatch(`a message at byte ${this.pos} has no bytes`);
    try {
      return deserialize(b);
    } catch (e) {
      throw new MalformedBatch(`a message at byte ${this.pos} does not deserialize (${(e as Error).message})`);
    }
  }
  private peekNull(): boolean {
    this.need(4, "length");
    if (this.view.getUint32(this.pos) !== NULL) return false;
    this.pos += 4;
    return true;
  }
}

/**
 * A byte field as a view into the bytes it came in, when those are at most a
 * read's chunk or it is most of them; else a copy of its own: a view keeps its
 * whole buffer alive, and a 10-byte body kept for a pending request must not
 * hold a 48 MiB frame. (A copy per field costs ~0.3-0.9 µs; most batches come
 * in one read.)
 */
function own(b: Uint8Array): Uint8Array {
  const whole = b.buffer.byteLength;
  return whole <= VIEW_WITHIN || b.length * 2 >= whole ? b : b.slice();
}

/**
 * Short strings (addresses, mostly: the same few again and again) come from
 * a small table: a string made from bytes costs ~0.4 µs, and one made char by
 * char is slow as a Map key until flattened. The bytes are compared whole,
 * so a collision only costs a miss.
 */
const table = new Map<number, { bytes: Uint8Array; s: string }>();
const TABLE_MAX = 1024;
function interned(buf: Uint8Array, start: number, n: number): string {
  let h = 0x811c9dc5;
  for (let i = start; i < start + n; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  const hit = table.get(h);
  if (hit && hit.bytes.length === n) {
    let i = 0;
    while (i < n && hit.bytes[i] === buf[start + i]) i++;
    if (i === n) return hit.s;
  }
  const bytes = buf.slice(start, start + n), s = decoder.decode(bytes);
  if (table.size >= TABLE_MAX) table.clear();
  table.set(h, { bytes, s });
  return s;
}

function inner(m: Message) {
  return "Request" in m ? m.Request : m.Response[0];
}

function expects(m: Message): number {
  return "Request" in m ? m.Request.expects_response ?? NO_EXPECTS : RESPONSE;
}

function message(e: number, inherit: boolean, body: Uint8Array, metadata: string | null, capabilities: Capability[]) {
  return e === RESPONSE ? { inherit, body, metadata, capabilities } : {
    inherit,
    expects_response: e === NO_EXPECTS ? null : e,
    body,
    metadata,
    capabilities,
  };
}

/** Reads the count; a count the bytes left cannot hold (a message is one byte at least) is malformed. */
function count(r: Reader): number {
  const n = r.u32();
  if (n > r.left) throw new MalformedBatch(`a batch claims ${n} messages in ${r.left} bytes`);
  return n;
}

// ---------------------------------------------------------------- kernel → process

/** A message's own fields (a request's or a response's), as msg and err carry them. */
function writeMessage(w: Writer, m: Message) {
  const i = inner(m);
  w.f64(expects(m));
  w.u8(i.inherit ? INHERIT : 0);
  w.bytes(i.body);
  w.nstr(i.metadata);
  w.caps(i.capabilities);
  w.bytes("Response" in m ? m.Response[1] : null);
}

function readMessage(r: Reader): Message {
  const e = r.f64(), inherit = (r.u8() & INHERIT) !== 0, body = r.bytes()!, metadata = r.nstr(), caps = r.caps();
  const respContext = r.bytes(), i = message(e, inherit, body, metadata, caps);
  return (e === RESPONSE ? { Response: [i, respContext] } : { Request: i }) as Message;
}

function writeBlob(w: Writer, blob: LazyLoadBlob | null) {
  w.u8(blob ? BLOB : 0);
  if (blob) {
    w.nstr(blob.mime);
    w.bytes(blob.bytes);
  }
}

/**
 * The bytes a message takes (its byte fields, its strings at 3 bytes a UTF-16
 * unit, the lengths and fixed fields), so its batch's buffer is sized once.
 */
function sizeOf(
  seen: Seen,
  m: Message,
  blob: LazyLoadBlob | null | undefined,
  ...strings: (string | null | undefined)[]
): number {
  const i = inner(m);
  let n = FIXED + once(seen, i.body) + once(seen, blob?.bytes) +
    3 * ((i.metadata?.length ?? 0) + (blob?.mime?.length ?? 0));
  for (const s of strings) n += 3 * (s?.length ?? 0);
  for (const c of i.capabilities) n += 8 + 3 * (c.issuer.length + c.params.length);
  return n;
}

/** Large byte fields counted so far; `direct` when they will stay outside the buffer. */
interface Seen {
  fields: Set<Uint8Array>;
  direct: boolean;
}

/** A byte field's length, or what stands for it in the buffer: a reference, or a length beside a direct field. */
function once(seen: Seen, b: Uint8Array | null | undefined): number {
  if (!b) return 0;
  if (b.length < SHARED_FROM) return b.length;
  if (seen.fields.has(b)) return 12;
  seen.fields.add(b);
  return seen.direct && b.length >= DIRECT_FROM ? 4 : b.length;
}

/**
 * Rare messages go as node:v8 bytes, made before the batch's buffer so it is
 * sized for them too (a SendError carries its request's blob back, a reply
 * may carry a blob).
 */
function others<T extends { t: string }>(msgs: T[], native: (m: T) => number): [number, (Uint8Array | null)[]] {
  let size = 0;
  const out = msgs.map((m) => {
    const n = native(m);
    if (n >= 0) {
      size += n;
      return null;
    }
    const b = serialize(m);
    size += b.length + 8;
    return b;
  });
  return [size, out];
}

/**
 * One frame of messages to a process, as parts to write in order (the first with header room): its large byte
 * fields are not copied, so they must not change until written (blobs never do: the kernel only passes them on).
 */
export function encodeToProcess(msgs: ToProcess[]): Uint8Array[] {
  const seen: Seen = { fields: new Set(), direct: true };
  const [size, v8] = others(
    msgs,
    (m) =>
      m.t === "msg"
        ? sizeOf(seen, m.km.message, m.km.lazy_load_blob, m.km.source, m.km.target, m.km.rsvp, m.withheld?.mime) +
          (m.context?.length ?? 0)
        : m.t === "err"
        ? sizeOf(seen, m.error.message, m.error.lazy_load_blob, m.error.kind, m.error.target) + (m.context?.length ?? 0)
        : -1,
  );
  const w = new Writer(size, true);
  msgs.forEach((m, k) => {
    if (m.t === "err") {
      w.u8(ERR);
      w.id(m.id);
      w.str(m.error.kind);
      w.str(m.error.target);
      writeMessage(w, m.error.message);
      writeBlob(w, m.error.lazy_load_blob);
      w.bytes(m.context);
      return;
    }
    if (m.t !== "msg") {
      w.u8(OTHER);
      w.bytes(v8[k]);
      return;
    }
    const km = m.km;
    w.u8(MSG);
    w.id(km.id);
    w.str(km.source);
    w.str(km.target);
    w.nstr(km.rsvp);
    writeMessage(w, km.message);
    w.bytes(m.context);
    const blob = km.lazy_load_blob;
    if (blob || !m.withheld) return writeBlob(w, blob);
    w.u8(WITHHELD);
    w.nstr(m.withheld.mime);
    w.f64(m.withheld.size);
  });
  return w.doneParts(msgs.length);
}

/** Reads a frame's payload (no header) from the kernel. */
export function decodeToProcess(payload: Uint8Array): ToProcess[] {
  const r = new Reader(payload, 0);
  const n = count(r), out: ToProcess[] = [];
  for (let k = 0; k < n; k++) {
    const kind = r.u8();
    if (kind === ERR) {
      const id = r.id(), errKind = r.str() as SendErrorKind, target = r.str(), message = readMessage(r);
      const blob = r.u8() & BLOB ? { mime: r.nstr(), bytes: r.bytes()! } : null;
      out.push({ t: "err", id, error: { kind: errKind, target, message, lazy_load_blob: blob }, context: r.bytes() });
      continue;
    }
    if (kind !== MSG) {
      out.push(r.other() as ToProcess);
      continue;
    }
    const id = r.id(), source = r.str(), target = r.str(), rsvp = r.nstr(), message = readMessage(r);
    const context = r.bytes(), has = r.u8();
    const km: KernelMessage = { id, source, target, rsvp, message, lazy_load_blob: null };
    let withheld = null;
    if (has & BLOB) km.lazy_load_blob = { mime: r.nstr(), bytes: r.bytes()! };
    else if (has & WITHHELD) withheld = { mime: r.nstr(), size: r.f64() };
    out.push({ t: "msg", km, context, withheld });
  }
  return out;
}

// ---------------------------------------------------------------- process → kernel

/** One frame (header room first, which the host fills in) of a process's messages. */
export function encodeFromProcess(msgs: FromProcess[]): Uint8Array {
  const seen: Seen = { fields: new Set(), direct: false };
  const [size, v8] = others(
    msgs,
    (m) =>
      m.t === "send" ? sizeOf(seen, m.message, m.blob, m.target) + (m.context?.length ?? 0) : m.t === "took" ? 8 : -1,
  );
  const w = new Writer(size);
  for (let k = 0; k < msgs.length; k++) {
    const m = msgs[k];
    if (m.t === "took") {
      w.u8(TOOK);
      w.u32(m.n);
      continue;
    }
    if (m.t !== "send") {
      w.u8(OTHER);
      w.bytes(v8[k]);
      continue;
    }
    const i = inner(m.message);
    w.u8(SEND);
    w.id(m.id);
    w.str(m.target);
    w.f64(expects(m.message));
    w.u8(
      (i.inherit ? INHERIT : 0) | (m.keepBlob ? KEEP_BLOB : 0) | (m.withheld ? WITHHELD : 0) |
        (m.prompt !== null ? PROMPT : 0) | (m.blobFrom !== null ? BLOB_FROM : 0) | (m.blob ? BLOB : 0),
    );
    w.bytes(i.body);
    w.nstr(i.metadata);
    w.caps(i.capabilities);
    if (m.blob) {
      w.nstr(m.blob.mime);
      w.bytes(m.blob.bytes);
    }
    if (m.prompt !== null) w.id(m.prompt);
    if (m.blobFrom !== null) w.id(m.blobFrom);
    w.bytes(m.context ?? null);
  }
  return w.done(msgs.length);
}

/**
 * Reads a frame's payload from a process host: untrusted. Lengths past the
 * end, counts the bytes cannot hold and unknown kinds throw MalformedBatch;
 * shapes inside are left to the kernel's validation, as ever.
 */
export function decodeFromProcess(payload: Uint8Array): FromProcess[] {
  const r = new Reader(payload, 0);
  const n = count(r), out: FromProcess[] = [];
  for (let k = 0; k < n; k++) {
    const kind = r.u8();
    if (kind === TOOK) {
      out.push({ t: "took", n: r.u32() });
      continue;
    }
    if (kind === OTHER) {
      out.push(r.other() as FromProcess);
      continue;
    }
    if (kind !== SEND) throw new MalformedBatch(`unknown message kind ${kind} at byte ${r.pos - 1}`);
    const id = r.id(), target = r.str(), e = r.f64(), flags = r.u8();
    const body = r.bytes() ?? new Uint8Array(), metadata = r.nstr(), caps = r.caps();
    const i = message(e, (flags & INHERIT) !== 0, body, metadata, caps);
    const blob = flags & BLOB ? { mime: r.nstr(), bytes: r.bytes() ?? new Uint8Array() } : null;
    out.push({
      t: "send",
      id,
      target,
      message: (e === RESPONSE ? { Response: [i, null] } : { Request: i }) as Message,
      blob,
      prompt: flags & PROMPT ? r.id() : null,
      blobFrom: flags & BLOB_FROM ? r.id() : null,
      context: r.bytes(),
      keepBlob: (flags & KEEP_BLOB) !== 0,
      withheld: (flags & WITHHELD) !== 0,
    });
  }
  if (r.left !== 0) throw new MalformedBatch(`${r.left} bytes follow the batch's last message`);
  return out;
}
