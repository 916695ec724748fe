/**
 * Requests to bound paths, answered straight off the connection: no web
 * Request, no Hono, no Response for the common answer (a bound path is most
 * of a node's traffic, and building those objects cost more than the rest of
 * the server). Hono (app.ts) keeps the node's own pages and the WebSocket
 * upgrades, which share the gate below.
 *
 * Who gets through to a bound path: a SecureBind path only on its process's
 * own subdomain (`app-pkg-publisher.localhost:PORT`); a local_only path only
 * from a loopback peer (the socket's address, never a header); an
 * authenticated one only with this node's session cookie for this host —
 * browsers are sent to /login, API clients get 401.
 */
import type { Answer } from "../../runtime/sockets/http1_stream.ts";
import { isUpgrade } from "../../runtime/sockets/websocket.ts";
import type { ProcessId } from "../../runtime/types.ts";
import type { Binding } from "./bindings.ts";
import type { ConnEnv, Reply } from "./connection.ts";
import { forward } from "./forward.ts";
import { isLoopback } from "./rpc.ts";
import { serveForOwner } from "./owner.ts";
import { OWNER_PREFIX } from "./local_only.ts";
import type { HttpServerModule } from "./mod.ts";

/** The subdomain a SecureBind process is served on: its id with every non-alphanumeric run as "-". */
export function subdomainOf(process: ProcessId): string {
  return process.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

/** The answer to a request for a bound path, or null when it is not one (Hono takes it then). */
export function serveBound(m: HttpServerModule, env: ConnEnv): Promise<Reply> | null {
  const { target, head } = env;
  if (target.pathname.startsWith(`${OWNER_PREFIX}/`) && !isUpgrade(head)) return serveForOwner(m, env);
  // The CLI's endpoints come first, whatever is bound; an upgrade goes to a WebSocket binding.
  if (isUpgrade(head) || target.pathname.startsWith("/rpc:distro:sys/")) return null;
  const found = m.bindings.match(target.pathname);
  if (!found) return null;
  return answer(m, env, found.binding, found.params);
}

async function answer(m: HttpServerModule, env: ConnEnv, b: Binding, params: Record<string, string>): Promise<Reply> {
  const gate = await admit(m, env, b);
  if (gate) return gate;
  if (b.static) return serveStatic(env, b);
  return forward(m.k, b, params, env, m.login!.cookieName, m.timeoutSeconds);
}

/** Whether the request may reach `b`: null, or the refusal. */
export async function admit(m: HttpServerModule, env: ConnEnv, b: Binding): Promise<Answer | null> {
  const host = env.target.hostname;
  if (b.secure) {
    const sub = subdomainOf(b.process);
    if (!host.startsWith(`${sub}.`)) {
      return jsonAnswer(403, { error: `${b.path} is served only on http://${sub}.localhost:${m.port}` });
    }
  } else if (host.split(".").length > 1 && !isIp(host) && host.endsWith(".localhost")) {
    // An app's subdomain serves only that app's secure paths: others stay on the main host.
    return jsonAnswer(403, { error: `${b.path} is not served on an app's subdomain` });
  }
  if (b.localOnly && !isLoopback(env.peer)) return jsonAnswer(403, { error: `${b.path} answers only on localhost` });
  if (b.authenticated && !await authed(m, env)) {
    const accept = env.head.headers.get("accept") ?? "";
    if (accept.includes("text/html") && env.head.method === "GET") return toLogin(env);
    return jsonAnswer(401, { error: "log in first: POST /login", login: "/login" });
  }
  return null;
}

/** Whether the request carries this node's session cookie for its host. */
export async function authed(m: HttpServerModule, env: ConnEnv): Promise<boolean> {
  const login = m.login!;
  const cookie = parseCookies(env.head.headers.get("cookie") ?? undefined)[login.cookieName];
  return await login.valid(cookie, env.target.hostname);
}

/** A browser without a session goes to /login, and comes back here after it. */
export function toLogin(env: ConnEnv): Answer {
  const back = encodeURIComponent(env.target.pathname + env.target.search);
  return { status: 302, headers: { location: `/login?redirect=${back}` }, body: null };
}

function serveStatic(env: ConnEnv, b: Binding): Answer {
  const { head, target } = env;
  if (head.method !== "GET" && head.method !== "HEAD") return jsonAnswer(405, { error: "use GET" });
  const s = b.static!;
  if (b.path === `/${b.process}` && !target.pathname.endsWith("/")) {
    // A UI's relative links resolve under its root only from "/process/".
    return { status: 301, headers: { location: `${target.pathname}/${target.search}` }, body: null };
  }
  const headers = { etag: s.etag, "cache-control": "no-cache" };
  if (head.headers.get("if-none-match") === s.etag) return { status: 304, headers, body: null };
  return { status: 200, headers: { ...headers, "content-type": s.mime ?? "application/octet-stream" }, body: s.bytes };
}

const encoder = new TextEncoder();

export function jsonAnswer(status: number, value: unknown): Answer {
  return { status, headers: { "content-type": "application/json" }, body: encoder.encode(JSON.stringify(value)) };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":") || host.startsWith("[");
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}
