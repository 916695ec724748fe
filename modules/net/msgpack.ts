/**
 * The MessagePack that rmp-serde writes, read and written by hand for the
 * wire's few shapes. A general library (we use @msgpack/msgpack for NetAction
 * bodies) turns the reference's `Vec<u8>` — an ARRAY of integers — into one
 * JavaScript number per byte; here such an array is read straight into a
 * Uint8Array and written from one, and a large `bin` goes out uncopied.
 *
 * Every length read is checked against the bytes that remain, so a hostile
 * header cannot make the reader allocate more than the message holds.
 */
import { ParseError } from "../../runtime/types.ts";
import { joinBytes } from "../../runtime/bytes.ts";

/** How a `Vec<u8>` travels: the reference's array of integers, or MessagePack bin. */
export type ByteForm = "ints" | "bin";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** At and above this size a bin's bytes become a part of their own instead of being copied. */
const OWN_PART = 4096;

export class Writer {
  private buf = new Uint8Array(512);
  private view = new DataView(this.buf.buffer);
  private n = 0;
  private done: Uint8Array[] = [];

  private room(k: number) {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private byte(b: number) {
    this.room(1);
    this.buf[this.n++] = b;
  }

  /** A header: `fix` when len < fixMax, else the 16- or 32-bit form starting at `wide`. */
  private header(len: number, fix: number, fixMax: number, wide: number) {
    this.room(5);
    if (len < fixMax) this.buf[this.n++] = fix | len;
    else if (len < 0x10000) {
      this.buf[this.n++] = wide;
      this.view.setUint16(this.n, len);
      this.n += 2;
    } else {
      this.buf[this.n++] = wide + 1;
      this.view.setUint32(this.n, len);
      this.n += 4;
    }
  }

  array(len: number): this {
    this.header(len, 0x90, 16, 0xdc);
    return this;
  }

  /** An array header always in its 16-bit form (still any decoder's array): the wire's one signal. */
  wideArray(len: number): this {
    this.room(3);
    this.buf[this.n++] = 0xdc;
    this.view.setUint16(this.n, len);
    this.n += 2;
    return this;
  }

  map(len: number): this {
    this.header(len, 0x80, 16, 0xde);
    return this;
  }

  nil(): this {
    this.byte(0xc0);
    return this;
  }

  bool(b: boolean): this {
    this.byte(b ? 0xc3 : 0xc2);
    return this;
  }

  /** An unsigned integer in its smallest form, as rmp writes every uint. */
  uint(v: number | bigint): this {
    this.room(9);
    if (typeof v === "bigint" && v > 0xffffffffn) {
      this.buf[this.n++] = 0xcf;
      this.view.setBigUint64(this.n, v);
      this.n += 8;
      return this;
    }
    const x = Number(v);
    if (!Number.isInteger(x) || x < 0) throw new RangeError(`${v} is not an unsigned integer`);
    if (x < 0x80) this.buf[this.n++] = x;
    else if (x < 0x100) {
      this.buf[this.n++] = 0xcc;
      this.buf[this.n++] = x;
    } else if (x < 0x10000) {
      this.buf[this.n++] = 0xcd;
      this.view.setUint16(this.n, x);
      this.n += 2;
    } else if (x <= 0xffffffff) {
      this.buf[this.n++] = 0xce;
      this.view.setUint32(this.n, x);
      this.n += 4;
    } else {
      this.buf[this.n++] = 0xcf;
      this.view.setBigUint64(this.n, BigInt(x));
      this.n += 8;
    }
    return this;
  }

  str(s: string): this {
    // UTF-8 is at most 3 bytes per UTF-16 unit.
    this.room(5 + s.length * 3);
    const at = this.n;
    // Write the bytes after the widest header this string could need, then move them if shorter.
    const guess = s.length * 3 < 32 ? 1 : s.length * 3 < 0x100 ? 2 : s.length * 3 < 0x10000 ? 3 : 5;
    const len = encoder.encodeInto(s, this.buf.subarray(at + guess)).written;
    const need = len < 32 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 5;
    if (need !== guess) this.buf.copyWithin(at + need, at + guess, at + guess + len);
    if (need === 1) this.buf[at] = 0xa0 | len;
    else if (need === 2) {
      this.buf[at] = 0xd9;
      this.buf[at + 1] = len;
    } else if (need === 3) {
      this.buf[at] = 0xda;
      this.view.setUint16(at + 1, len);
    } else {
      this.buf[at] = 0xdb;
      this.view.setUint32(at + 1, len);
    }
    this.n = at + need + len;
    return this;
  }

  optStr(s: string | null): this {
    return s === null ? this.nil() : this.str(s);
  }

  /** A `Vec<u8>` in the given form. */
  bytes(b: Uint8Array, form: ByteForm): this {
    if (form === "bin") {
      this.binHeader(b.length);
      if (b.length >= OWN_PART) {
        this.done.push(this.buf.slice(0, this.n), b);
        this.n = 0;
        return this;
      }
      this.room(b.length);
      this.buf.set(b, this.n);
      this.n += b.length;
      return this;
    }
    this.array(b.length);
    this.room(b.length * 2);
    const out = this.buf;
    let n = this.n;
    for (let i = 0; i < b.length; i++) {
      const x = b[i];
      if (x < 0x80) out[n++] = x;
      else {
        out[n++] = 0xcc;
        out[n++] = x;
      }
    }
    this.n = n;
    return this;
  }

  private binHeader(len: number) {
    this.room(5);
    if (len < 0x100) {
      this.buf[this.n++] = 0xc4;
      this.buf[this.n++] = len;
    } else if (len < 0x10000) {
      this.buf[this.n++] = 0xc5;
      this.view.setUint16(this.n, len);
      this.n += 2;
    } else {
      this.buf[this.n++] = 0xc6;
      this.view.setUint32(this.n, len);
      this.n += 4;
    }
  }

  optBytes(b: Uint8Array | null, form: ByteForm): this {
    return b === null ? this.nil() : this.bytes(b, form);
  }

  /** Everything written, as parts whose concatenation is the encoding. */
  parts(): Uint8Array[] {
    const out = this.n ? [...this.done, this.buf.subarray(0, this.n)] : this.done;
    this.done = [];
    this.buf = new Uint8Array(512);
    this.view = new DataView(this.buf.buffer);
    this.n = 0;
    return out;
  }

  /** Everything written, in one array. */
  finish(): Uint8Array {
    const parts = this.parts();
    return parts.length === 1 ? parts[0] : joinBytes(parts);
  }
}

export class Reader {
  private pos = 0;
  private view: DataView;

  constructor(private b: Uint8Array, private what: string) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  private fail(why: string): never {
    throw new ParseError(`${this.what}: ${why} at byte ${this.pos}`);
  }

  private need(k: number) {
    if (this.pos + k > this.b.length) this.fail("ends too soon");
  }

  private u8(): number {
    this.need(1);
    return this.b[this.pos++];
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** The next byte, not consumed. */
  peek(): number {
    this.need(1);
    return this.b[this.pos];
  }

  /** An array header; `wide` says whether it was longer than its length needed. */
  arrayHeader(): { len: number; wide: boolean } {
    const m = this.u8();
    let len: number;
    if ((m & 0xf0) === 0x90) len = m & 0x0f;
    else if (m === 0xdc) len = this.u16();
    else if (m === 0xdd) len = this.u32();
    else this.fail(`expected an array, found 0x${m.toString(16)}`);
    if (len > this.b.length - this.pos) this.fail(`an array of ${len} cannot fit`);
    return { len, wide: len < 16 ? m !== (0x90 | len) : len < 0x10000 && m !== 0xdc };
  }

  array(): number {
    return this.arrayHeader().len;
  }

  /** An array of exactly `len` elements (a struct). */
  struct(len: number, name: string): void {
    const n = this.array();
    if (n !== len) this.fail(`${name} has ${n} fields, not ${len}`);
  }

  map(): number {
    const m = this.u8();
    let len: number;
    if ((m & 0xf0) === 0x80) len = m & 0x0f;
    else if (m === 0xde) len = this.u16();
    else if (m === 0xdf) len = this.u32();
    else this.fail(`expected a map, found 0x${m.toString(16)}`);
    if (len * 2 > this.b.length - this.pos) this.fail(`a map of ${len} cannot fit`);
    return len;
  }

  /** Consumes a nil and says so; anything else stays. */
  nil(): boolean {
    if (this.peek() !== 0xc0) return false;
    this.pos++;
    return true;
  }

  bool(): boolean {
    const m = this.u8();
    if (m === 0xc2) return false;
    if (m === 0xc3) return true;
    this.fail("expected a bool");
  }

  /** Any unsigned integer form (a decoder must not insist on the smallest). */
  uint64(): bigint {
    const m = this.u8();
    if (m < 0x80) return BigInt(m);
    switch (m) {
      case 0xcc:
        return BigInt(this.u8());
      case 0xcd:
        return BigInt(this.u16());
      case 0xce:
        return BigInt(this.u32());
      case 0xcf: {
        this.need(8);
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        return v;
      }
    }
    this.fail(`expected an unsigned integer, found 0x${m.toString(16)}`);
  }

  /** An unsigned integer no larger than `max`. */
  uint(max: number): number {
    const v = this.uint64();
    if (v > BigInt(max)) this.fail(`${v} is over ${max}`);
    return Number(v);
  }

  str(): string {
    const m = this.u8();
    let len: number;
    if ((m & 0xe0) === 0xa0) len = m & 0x1f;
    else if (m === 0xd9) len = this.u8();
    else if (m === 0xda) len = this.u16();
    else if (m === 0xdb) len = this.u32();
    else this.fail(`expected a string, found 0x${m.toString(16)}`);
    this.need(len);
    let s: string;
    try {
      s = decoder.decode(this.b.subarray(this.pos, this.pos + len));
    } catch {
      this.fail("a string is not UTF-8");
    }
    this.pos += len;
    return s;
  }

  optStr(): string | null {
    return this.nil() ? null : this.str();
  }

  /** A `Vec<u8>` in either form: an array of integers 0-255, or bin. */
  bytes(): Uint8Array {
    const m = this.peek();
    if (m === 0xc4 || m === 0xc5 || m === 0xc6) {
      this.pos++;
      const len = m === 0xc4 ? this.u8() : m === 0xc5 ? this.u16() : this.u32();
      this.need(len);
      // A large bin is a view of the message (decodeKernelMessage's caller gives up those bytes), not a copy.
      const out = len >= OWN_PART ? this.b.subarray(this.pos, this.pos + len) : this.b.slice(this.pos, this.pos + len);
      this.pos += len;
      return out;
    }
    const len = this.array();
    const out = new Uint8Array(len);
    const b = this.b;
    let p = this.pos;
    for (let i = 0; i < len; i++) {
      if (p >= b.length) this.fail("bytes end too soon");
      const x = b[p++];
      if (x < 0x80) out[i] = x;
      else if (x === 0xcc && p < b.length) out[i] = b[p++];
      else {
        this.pos = p - 1;
        const v = this.uint64();
        if (v > 0xffn) this.fail("a byte is over 255");
        out[i] = Number(v);
        p = this.pos;
      }
    }
    this.pos = p;
    return out;
  }

  optBytes(): Uint8Array | null {
    return this.nil() ? null : this.bytes();
  }

  /** A one-entry map (an enum variant with data) or a string (a unit variant): its name. */
  variant(): { name: string; hasData: boolean } {
    const m = this.peek();
    if ((m & 0xe0) === 0xa0 || m === 0xd9 || m === 0xda || m === 0xdb) return { name: this.str(), hasData: false };
    if (this.map() !== 1) this.fail("an enum variant must be a map of one entry");
    return { name: this.str(), hasData: true };
  }

  /** Nothing may follow the value. */
  end() {
    if (this.pos !== this.b.length) this.fail(`${this.b.length - this.pos} bytes after the end`);
  }
}
