/**
 * Streaming halves of HTTP/1.1 for a server that keeps connections open:
 * a request body as a ReadableStream that reads the connection only as fast
 * as its consumer pulls (so a 1 GiB upload is never buffered here), and a
 * web Response written back with Content-Length or chunked encoding.
 */
import { ConnEnded, type ConnReader, HttpError, reasonOf, type RequestHead, responseBytes, writeAll } from "./http1.ts";
import { concat } from "../bytes.ts";

const MAX_LINE = 4096;
const PIECE = 64 * 1024;

/** A request body being read: its stream, and whether it was read to its end (the connection can go on). */
export interface BodyReader {
  stream: ReadableStream<Uint8Array> | null;
  /** The Content-Length, when the client sent one. */
  length: number | null;
  readonly done: boolean;
}

/**
 * The body of the request whose head was read, as a stream. Malformed
 * framing errors the stream with an HttpError (400); the connection's end
 * errors it with ConnEnded. `onContinue` answers `Expect: 100-continue` when
 * the consumer first pulls.
 */
export function bodyReader(r: ConnReader, head: RequestHead, onContinue: () => Promise<void>): BodyReader {
  const te = head.headers.get("transfer-encoding");
  const cl = head.headers.get("content-length");
  if (te !== null && cl !== null) throw new HttpError(400, "both Transfer-Encoding and Content-Length");
  if (te !== null && te.toLowerCase() !== "chunked") throw new HttpError(501, `transfer-encoding ${te} not supported`);
  if (cl !== null && !/^\d{1,15}$/.test(cl)) throw new HttpError(400, "malformed Content-Length");
  const state = { done: false };
  const length = cl === null ? null : Number(cl);
  if (te === null && !length) {
    state.done = true;
    return {
      stream: null,
      length,
      get done() {
        return true;
      },
    };
  }
  let asked = head.headers.get("expect")?.toLowerCase() !== "100-continue";
  let left = length ?? 0; // of the body (Content-Length) or of the current chunk
  let chunked = te !== null;
  const stream = new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        if (!asked) {
          asked = true;
          await onContinue();
        }
        if (chunked && left === 0) {
          left = await chunkSize(r);
          if (left === 0) {
            while (await r.readUntil("\r\n", MAX_LINE, () => new HttpError(400, "trailer line too long")) !== "");
            state.done = true;
            chunked = false;
            return c.close();
          }
        }
        const piece = await r.readSome(Math.min(left, PIECE));
        left -= piece.length;
        c.enqueue(piece);
        if (left > 0) return;
        if (chunked) {
          await r.fill(2);
          const crlf = r.take(2);
          if (crlf[0] !== 13 || crlf[1] !== 10) throw new HttpError(400, "chunk not followed by CRLF");
        } else {
          state.done = true;
          c.close();
        }
      } catch (e) {
        c.error(e);
      }
    },
  }, { highWaterMark: 0 });
  return {
    stream,
    length,
    get done() {
      return state.done;
    },
  };
}

async function chunkSize(r: ConnReader): Promise<number> {
  const line = await r.readUntil("\r\n", MAX_LINE, () => new HttpError(400, "chunk size line too long"));
  const hex = line.split(";")[0].trim();
  if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new HttpError(400, "malformed chunk size");
  return parseInt(hex, 16);
}

/**
 * An answer whose body is already whole: written as one buffer, head and
 * body together, without a web Response around it (what most answers are,
 * and a Response costs more to take apart than the answer itself).
 * Header names are lowercase tokens and values hold no CR or LF (the caller
 * checks what it did not write itself); Content-Length and Connection are
 * the writer's.
 */
export interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Uint8Array | null;
}

const encoder = new TextEncoder();

/** The bytes of `a` on the wire, for one write. */
export function answerBytes(a: Answer, opts: { keepAlive: boolean; head: boolean }): Uint8Array {
  let head = `HTTP/1.1 ${a.status} ${reasonOf(a.status)}\r\n`;
  for (const k in a.headers) {
    const v = a.headers[k];
    if (typeof v === "string") head += `${k}: ${v}\r\n`;
    else for (const one of v) head += `${k}: ${one}\r\n`;
  }
  head += opts.keepAlive ? "connection: keep-alive\r\n" : "connection: close\r\n";
  const noBody = a.status === 204 || a.status === 304;
  if (!noBody) head += `content-length: ${a.body?.length ?? 0}\r\n`;
  head += "\r\n";
  if (noBody || opts.head || !a.body?.length) return encoder.encode(head);
  // A head is mostly ASCII: room for it as UTF-8 (at most 3 bytes a UTF-16 unit), then the body after it.
  const out = new Uint8Array(head.length * 3 + a.body.length);
  const { written } = encoder.encodeInto(head, out);
  out.set(a.body, written);
  return out.subarray(0, written + a.body.length);
}

/**
 * Writes `res` to the connection. A body that ends after its first chunk
 * goes out with a Content-Length in one write; a longer one streams chunked,
 * each chunk written before the next is read (the client's pace bounds memory).
 */
export async function writeResponse(
  conn: Deno.Conn,
  res: Response,
  opts: { keepAlive: boolean; head: boolean },
): Promise<void> {
  const headers: Record<string, string> = {};
  const cookies = res.headers.getSetCookie();
  res.headers.forEach((v, k) => {
    if (k !== "set-cookie" && k !== "content-length" && k !== "transfer-encoding" && k !== "connection") {
      headers[k] = v;
    }
  });
  headers.connection = opts.keepAlive ? "keep-alive" : "close";
  const known = res.headers.get("content-length");
  const extra = cookies.map((c) => `set-cookie: ${c}\r\n`).join("");
  const head = (h: Record<string, string>) => withCookies(responseBytes(res.status, h), extra);
  if (!res.body || opts.head || res.status === 204 || res.status === 304) {
    if (res.status !== 204 && res.status !== 304) headers["content-length"] = opts.head && known ? known : "0";
    await res.body?.cancel();
    return writeAll(conn, head(headers));
  }
  const reader = res.body.getReader();
  try {
    await writeBody(conn, reader, headers, head, known);
  } catch (e) {
    // The client left or the body failed: let go of what feeds the body (a file, a process's stream).
    reader.cancel().catch(() => {});
    throw e;
  }
}

async function writeBody(
  conn: Deno.Conn,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  headers: Record<string, string>,
  head: (h: Record<string, string>) => Uint8Array,
  known: string | null,
) {
  // A body that ends within its first chunk (most answers) goes out with its head in one write.
  const first = await reader.read();
  const second = first.done ? first : await reader.read();
  if (second.done) {
    const body = first.value ?? new Uint8Array();
    headers["content-length"] = String(body.length);
    return writeAll(conn, concat(head(headers), body));
  }
  if (known !== null) {
    headers["content-length"] = known;
    await writeAll(conn, concat(head(headers), first.value!));
    await writeAll(conn, second.value);
    for (let n = await reader.read(); !n.done; n = await reader.read()) await writeAll(conn, n.value);
    return;
  }
  headers["transfer-encoding"] = "chunked";
  await writeAll(conn, concat(head(headers), chunk(first.value!), chunk(second.value)));
  try {
    for (let n = await reader.read(); !n.done; n = await reader.read()) {
      if (n.value.length) await writeAll(conn, chunk(n.value));
    }
  } catch (e) {
    // The body failed half-way: the client must not take a truncated body for a whole one.
    throw new ConnEnded(`response body failed: ${(e as Error).message}`);
  }
  await writeAll(conn, new TextEncoder().encode("0\r\n\r\n"));
}

function chunk(b: Uint8Array): Uint8Array {
  return concat(new TextEncoder().encode(`${b.length.toString(16)}\r\n`), b, new TextEncoder().encode("\r\n"));
}

function withCookies(head: Uint8Array, extra: string): Uint8Array {
  if (!extra) return head;
  // responseBytes ends the head with an empty line: put the Set-Cookie lines before it.
  return concat(head.subarray(0, head.length - 2), new TextEncoder().encode(extra + "\r\n"));
}
