/**
 * Outgoing HTTP for http-client:distro:sys, on the platform's fetch. The
 * request's body is its blob; its timeout, expects_response, covers the whole
 * exchange (DNS, connect, headers and body), and the client gives up a little
 * before the kernel would, so the process hears why (RequestFailed) rather
 * than a bare Timeout. The host is resolved and checked first
 * (destination.ts), and the request goes to the checked address only
 * (pinned.ts). Redirects come back to the process as they are (the 3xx and
 * its Location), so every hop it takes is checked again.
 *
 * What one process may hold is bounded (runtime/limits.ts): a response body
 * of httpResponseBytes (refused at once when Content-Length says more, else
 * while it arrives), httpBufferedBytes across its requests in flight, and
 * httpRequestsInFlight requests. A process that exits has its requests
 * aborted.
 */
import type { LazyLoadBlob, ProcessId } from "../../runtime/types.ts";
import { LIMITS } from "../../runtime/limits.ts";
import { joinBytes } from "../../runtime/bytes.ts";
import type { HttpClientResult, OutgoingHttpRequest } from "../../runtime/api/http_client.ts";
import { ModuleError } from "../../runtime/kernel/module_answer.ts";
import { refuse } from "./parse.ts";
import { AddressRefused, type DestinationPolicy, resolveDestination } from "./destination.ts";
import type { Lease, PinnedClients } from "./pinned.ts";

/** RFC 9110 token characters: what a method may be made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Methods fetch will not send. */
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
/** The versions fetch can be held to; HTTP/0.9, HTTP/1.0 and HTTP/3.0 it cannot speak on request. */
const VERSIONS = new Set(["HTTP/1.1", "HTTP/2.0"]);

interface InFlight {
  abort: AbortController;
  buffered: number;
}

export class OutgoingHttp {
  private inFlight = new Map<ProcessId, Set<InFlight>>();

  constructor(
    private policy: (owner: ProcessId) => DestinationPolicy,
    private pins: PinnedClients,
    private log: (text: string, owner: ProcessId) => void,
  ) {}

  async request(
    owner: ProcessId,
    req: OutgoingHttpRequest,
    blob: LazyLoadBlob | null,
    timeoutMs: number,
  ): Promise<[HttpClientResult, LazyLoadBlob | null]> {
    const method = req.method.toUpperCase();
    if (!TOKEN.test(req.method) || FORBIDDEN_METHODS.has(method)) throw refuse({ BadMethod: { method: req.method } });
    if (req.version !== null && !VERSIONS.has(req.version)) throw refuse({ BadVersion: { version: req.version } });
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw refuse({ BadUrl: { url: req.url } });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw refuse({ BadUrl: { url: req.url } });
    const failed = (error: string) => refuse({ RequestFailed: { error } });

    const mine = this.inFlight.get(owner) ?? new Set<InFlight>();
    if (mine.size >= LIMITS.httpRequestsInFlight) {
      this.log(`${owner} has ${mine.size} HTTP requests in flight, the most a process may`, owner);
      throw failed(`${mine.size} requests already in flight, the most a process may: await some first`);
    }
    const flight: InFlight = { abort: new AbortController(), buffered: 0 };
    this.inFlight.set(owner, mine.add(flight));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      flight.abort.abort();
    }, timeoutMs);
    let lease: Lease | null = null;
    try {
      // A lookup that hangs still ends with the request's time.
      const aborted = new Promise<never>((_, reject) => flight.abort.signal.onabort = reject);
      aborted.catch(() => {});
      const dest = await Promise.race([resolveDestination(url, this.policy(owner)), aborted]);
      lease = this.pins.lease(dest, url.protocol === "https:", req.version);
      const resp = await fetch(url, {
        method,
        headers: req.headers,
        body: blob?.bytes.length ? blob.bytes as Uint8Array<ArrayBuffer> : undefined,
        redirect: "manual",
        signal: flight.abort.signal,
        client: lease.client,
      });
      const declared = Number(resp.headers.get("content-length") ?? NaN);
      if (declared > LIMITS.httpResponseBytes) {
        await resp.body?.cancel();
        throw failed(`the response's Content-Length is ${declared} bytes; ${MOST}`);
      }
      const bytes = await this.readBody(owner, flight, resp);
      const mime = resp.headers.get("content-type");
      return [{ Ok: { Http: { status: resp.status, headers: headerRecord(resp.headers) } } }, { mime, bytes }];
    } catch (e) {
      if (e instanceof ModuleError) throw e;
      if (e instanceof AddressRefused) {
        this.log(`refused ${owner}'s request to ${url.host}: ${e.reason}`, owner);
        throw refuse({ AddressRefused: { url: req.url, address: e.address, reason: e.reason } });
      }
      if (timedOut) throw failed(`no response after ${timeoutMs} ms, when the request's expects_response runs out`);
      if (flight.abort.signal.aborted) throw failed("aborted: the process exited");
      const why = describe(e as Error);
      throw failed(why.includes("unsuccessful tunnel") ? lease?.tunnelFailure() ?? why : why);
    } finally {
      lease?.release();
      clearTimeout(timer);
      mine.delete(flight);
      if (mine.size === 0 && this.inFlight.get(owner) === mine) this.inFlight.delete(owner);
    }
  }

  /** The body in one piece, refused as soon as it passes the limits. */
  private async readBody(owner: ProcessId, flight: InFlight, resp: Response): Promise<Uint8Array> {
    if (!resp.body) return new Uint8Array();
    const chunks: Uint8Array[] = [];
    const reader = resp.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      flight.buffered += r.value.length;
      if (flight.buffered > LIMITS.httpResponseBytes) {
        await reader.cancel();
        throw refuse({
          RequestFailed: { error: `the response body passed ${LIMITS.httpResponseBytes} bytes; ${MOST}` },
        });
      }
      if (this.buffered(owner) > LIMITS.httpBufferedBytes) {
        await reader.cancel();
        const error = `${owner}'s responses in flight hold more than ${LIMITS.httpBufferedBytes} bytes: fewer at once`;
        throw refuse({ RequestFailed: { error } });
      }
      chunks.push(r.value);
    }
    return joinBytes(chunks);
  }

  private buffered(owner: ProcessId): number {
    let n = 0;
    for (const f of this.inFlight.get(owner) ?? []) n += f.buffered;
    return n;
  }

  /** Aborts the requests of a process that stopped. */
  abortAll(owner: ProcessId) {
    for (const f of this.inFlight.get(owner) ?? []) f.abort.abort();
    this.inFlight.delete(owner);
  }

  shutdown() {
    for (const owner of [...this.inFlight.keys()]) this.abortAll(owner);
  }
}

const MOST = `a process is handed at most ${LIMITS.httpResponseBytes} bytes`;

/** Response headers as the reference node gives them: Pascal-Case names (`Content-Type`). */
function headerRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  // get() joins repeated headers (Set-Cookie too) with ", ", as one name holds one value here.
  for (const name of new Set(h.keys())) {
    out[name.replace(/(^|-)([a-z])/g, (_, d, c) => d + c.toUpperCase())] = h.get(name)!;
  }
  return out;
}

/** fetch's error with its cause (e.g. "Connection refused"), in one line. */
function describe(e: Error): string {
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
  return `${e.message}${cause}`.replace(/\s+/g, " ");
}
