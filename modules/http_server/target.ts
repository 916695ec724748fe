/**
 * The URL a request asks for, as the WHATWG URL parser would make it of
 * `http://<Host><target>`, without running the parser on every request: a
 * target made only of characters the parser leaves as they are (no dot
 * segments, nothing it would percent-encode) is the URL's path and query as
 * sent, and the Host's part is parsed once per distinct Host header. Anything
 * else goes through `new URL`, so both ways give the same URL.
 */
import { HttpError, type RequestHead } from "../../runtime/sockets/http1.ts";

export interface Target {
  href: string;
  /** Percent-encoded, as URL.pathname. */
  pathname: string;
  /** "" or "?..." as URL.search. */
  search: string;
  /** Lowercase, as URL.hostname. */
  hostname: string;
  /** Lowercase, with the port if one was named, as URL.host. */
  host: string;
}

/** Path characters the URL parser keeps as they are in an http URL. */
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~:@!$&'()*+,;=\/%]*$/;
/** A "." or ".." segment, spelt out or percent-encoded: the parser resolves those. */
const DOT_SEGMENT = /\/(?:\.|%2e)(?:\.|%2e)?(?:\/|$)/i;
/** Query characters the parser keeps as they are (it encodes ' in special schemes, and ", <, >, space). */
const PLAIN_QUERY = /^\?[A-Za-z0-9\-._~:@!$&()*+,;=\/?%]*$/;
const HOST = /^[A-Za-z0-9.\-:\[\]]+$/;

/** Host header → the parsed origin and hostname. Bounded: a client sending a new Host each time only misses. */
const hosts = new Map<string, { origin: string; hostname: string; host: string }>();
const MAX_HOSTS = 256;

export function targetOf(head: RequestHead, peer: Deno.NetAddr): Target {
  const t = head.target;
  if (!t.startsWith("/")) return parsed(head, peer);
  const q = t.indexOf("?");
  const path = q < 0 ? t : t.slice(0, q);
  const search = q < 0 ? "" : t.slice(q);
  if (!PLAIN_PATH.test(path) || DOT_SEGMENT.test(path) || (search && !PLAIN_QUERY.test(search))) {
    return parsed(head, peer);
  }
  const host = hostOf(head, peer);
  let h = hosts.get(host);
  if (!h) {
    const u = parse(`http://${host}/`);
    h = { origin: u.origin, hostname: u.hostname, host: u.host };
    if (hosts.size >= MAX_HOSTS) hosts.clear();
    hosts.set(host, h);
  }
  return {
    href: h.origin + t,
    pathname: path,
    search: search === "?" ? "" : search,
    hostname: h.hostname,
    host: h.host,
  };
}

function hostOf(head: RequestHead, peer: Deno.NetAddr): string {
  const host = head.headers.get("host") ?? `${peer.hostname}`;
  if (!HOST.test(host)) throw bad();
  return host;
}

function parsed(head: RequestHead, peer: Deno.NetAddr): Target {
  let u: URL;
  if (/^https?:\/\//i.test(head.target)) u = parse(head.target);
  else if (head.target.startsWith("/")) u = parse(`http://${hostOf(head, peer)}${head.target}`);
  else throw bad();
  return { href: u.href, pathname: u.pathname, search: u.search, hostname: u.hostname, host: u.host };
}

function parse(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw bad();
  }
}

function bad(): HttpError {
  return new HttpError(400, "malformed request target or Host");
}
