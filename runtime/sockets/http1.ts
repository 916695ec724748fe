/**
 * Just enough HTTP/1.1 to read a request head from a raw connection and
 * answer, with every size bounded while the bytes arrive (bodies stream in
 * http1_stream.ts), so nothing is buffered past its limit. The node reads its own requests (rather than using Deno.serve) so
 * that its accept loop, connection table and deadlines are its own.
 */
import { STATUS_CODES } from "node:http";
import { concat } from "../bytes.ts";

export class HttpError extends Error {
  override name = "HttpError";
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The other side hung up. */
export class ConnEnded extends Error {
  override name = "ConnEnded";
}

const MAX_HEAD = 16 * 1024;

/** Buffered reads from a connection. */
export class ConnReader {
  private buf = new Uint8Array(16 * 1024);
  private start = 0;
  private end = 0;
  /** Bytes received so far. */
  received = 0;

  /** `onBytes` hears every read that brought bytes (the listener marks the connection as heard). */
  constructor(private conn: Deno.Conn, private onBytes?: () => void) {}

  private async more() {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      }
    }
    let n: number | null;
    try {
      n = await this.conn.read(this.buf.subarray(this.end));
    } catch (e) {
      throw new ConnEnded((e as Error).message);
    }
    if (n === null) throw new ConnEnded("connection closed by peer");
    this.onBytes?.();
    this.received += n;
    this.end += n;
  }

  /** Makes sure `n` bytes are buffered (the buffer grows to hold them). */
  async fill(n: number) {
    while (this.end - this.start < n) await this.more();
  }

  /** The next `n` buffered bytes, as a view valid until the next read. */
  take(n: number): Uint8Array {
    const v = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    return v;
  }

  /**
   * Reads up to and including `delim`, refusing with `tooLong` (made only when needed: an Error's stack
   * costs more than the read) past `max` bytes. Returns text without `delim`.
   */
  async readUntil(delim: string, max: number, tooLong: HttpError | (() => HttpError)): Promise<string> {
    const d = DELIMS[delim] ?? new TextEncoder().encode(delim);
    const refuse = () => typeof tooLong === "function" ? tooLong() : tooLong;
    let from = this.start;
    while (true) {
      const at = indexOf(this.buf.subarray(0, this.end), d, Math.max(this.start, from));
      if (at >= 0) {
        if (at - this.start > max) throw refuse();
        const text = latin1(this.buf.subarray(this.start, at));
        this.start = at + d.length;
        return text;
      }
      if (this.end - this.start > max) throw refuse();
      from = Math.max(this.start, this.end - d.length + 1);
      const before = this.start;
      await this.more();
      from += this.start - before; // the buffer may have been compacted
    }
  }

  /** Up to `max` bytes: what is buffered, else one read. A copy the caller keeps. */
  async readSome(max: number): Promise<Uint8Array> {
    if (this.end === this.start) await this.more();
    return this.take(Math.min(max, this.end - this.start)).slice();
  }

  /** Whether bytes beyond those taken are buffered (a pipelined request). */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Fills `dst` exactly: what is buffered first, then straight from the connection. */
  async readInto(dst: Uint8Array) {
    let o = Math.min(dst.length, this.end - this.start);
    dst.set(this.take(o));
    while (o < dst.length) {
      let n: number | null;
      try {
        n = await this.conn.read(dst.subarray(o));
      } catch (e) {
        throw new ConnEnded((e as Error).message);
      }
      if (n === null) throw new ConnEnded("connection closed in the middle of a body");
      this.received += n;
      o += n;
    }
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= hay.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const LATIN1 = new TextDecoder("latin1");
const DELIMS: Record<string, Uint8Array> = { "\r\n": Uint8Array.of(13, 10), "\r\n\r\n": Uint8Array.of(13, 10, 13, 10) };

function latin1(b: Uint8Array): string {
  return LATIN1.decode(b);
}

export interface RequestHead {
  method: string;
  /** The request target as sent, e.g. "/rpc:distro:sys/message". */
  target: string;
  headers: Headers;
  /** "1.1" or "1.0". */
  version: string;
}

/** Reads the request line and headers. */
export async function readHead(r: ConnReader): Promise<RequestHead> {
  const text = await r.readUntil("\r\n\r\n", MAX_HEAD, () => new HttpError(431, `request head over ${MAX_HEAD} bytes`));
  const [line, ...fields] = text.split("\r\n");
  const m = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(line);
  if (!m) throw new HttpError(400, "malformed request line");
  const headers = new Headers();
  for (const f of fields) {
    const c = f.indexOf(":");
    if (c <= 0 || /^\s/.test(f)) throw new HttpError(400, "malformed header line");
    try {
      headers.append(f.slice(0, c).trim(), f.slice(c + 1).trim());
    } catch {
      throw new HttpError(400, "malformed header line");
    }
  }
  return { method: m[1], target: m[2], headers, version: `1.${m[3]}` };
}

const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  204: "No Content",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  401: "Unauthorized",
  408: "Request Timeout",
  429: "Too Many Requests",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  504: "Gateway Timeout",
};

/** The reason phrase of the status line. */
export function reasonOf(status: number): string {
  return REASONS[status] ?? STATUS_CODES[status] ?? "Status";
}

/** The bytes of a response head (and body), ready to write. */
export function responseBytes(status: number, headers: Record<string, string>, body?: Uint8Array): Uint8Array {
  let head = `HTTP/1.1 ${status} ${reasonOf(status)}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body) head += `content-length: ${body.length}\r\n`;
  const h = new TextEncoder().encode(head + "\r\n");
  return body ? concat(h, body) : h;
}

export async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
  let w = 0;
  while (w < bytes.length) w += await conn.write(bytes.subarray(w));
}
