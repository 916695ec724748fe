/**
 * Requests to bound paths, answered straight off the connection: no web
 * Request, no Hono, no Response for the common answer (a bound path is most
 * of a node's traffic, and building those objects cost more than the rest of
 * the server). Hono (app.ts) keeps the node's own pages and the WebSocket
 * upgrades, which share the gate below.
 *
 * Where a path is served (origins.ts): a browser gets every process's paths
 * on that process's own origin, `<label>.localhost:PORT`; navigating to
 * `localhost:PORT/<process>/...` sends it there (through a one-time hand-off
 * that gives it the app's own cookie when the path wants a login). On the
 * node's host, scripts and the CLI (no Origin, no Sec-Fetch-*) keep reaching
 * the paths with the node's cookie, and every answer there carries
 * `Content-Security-Policy: sandbox`, so nothing an app answers ever runs as
 * a page of the node's origin. A SecureBind path is served only on its
 * origin; an app's origin serves only its own paths.
 *
 * Who gets through: cross-site browser requests to an authenticated or
 * local_only path are refused (cross_site.ts); a local_only path only from a
 * loopback peer (the socket's address, never a header); an authenticated one
 * only with the session cookie of its host: the node's on the node's host,
 * the app's own on its origin. Browsers are sent to /login, API clients get 401.
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
import { appLabel, appLabelOfHost, appOrigin, nodeOrigin } from "./origins.ts";
import { crossSiteRefusal, isNavigation } from "./cross_site.ts";
import type { HttpServerModule } from "./mod.ts";

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
  // The owner's session is proven: a large upload on a slow link may outlast the 30 s a stranger's request has to
  // arrive (an 80 MiB Kino Files upload was cut off at that deadline). Public paths keep it.
  if (b.authenticated) env.slot.proven();
  const reply = b.static
    ? serveStatic(env, b)
    : await forward(m.k, b, params, env, [m.login!.cookieName, m.login!.appCookieName], m.timeoutSeconds);
  return appLabelOfHost(env.target.hostname) === null ? confined(reply) : reply;
}

/**
 * An app's answer on the node's host: a browser that renders it anyway (one
 * without Fetch Metadata, an <object>) runs it in an opaque origin, without
 * the node's cookie or its pages. It sets no cookie there either: the node's
 * host's cookies are the node's, and a browser stores what a POST navigation
 * or a same-site fetch answers, so an app could overwrite the owner's session
 * or send enough large cookies that every later request to localhost (any
 * port) is too big to serve.
 */
function confined(reply: Reply): Reply {
  const csp = "sandbox";
  if (reply instanceof Response) {
    reply.headers.append("content-security-policy", csp);
    reply.headers.set("x-content-type-options", "nosniff");
    reply.headers.delete("set-cookie");
    return reply;
  }
  const { "set-cookie": _dropped, ...headers } = reply.headers;
  const had = headers["content-security-policy"];
  const policies = had === undefined ? csp : [...(typeof had === "string" ? [had] : had), csp].join(", ");
  return {
    ...reply,
    headers: { ...headers, "content-security-policy": policies, "x-content-type-options": "nosniff" },
  };
}

/** Whether the request may reach `b`: null, or the refusal (or where a browser goes instead). */
export async function admit(m: HttpServerModule, env: ConnEnv, b: Binding): Promise<Answer | null> {
  const { head, target } = env;
  const label = appLabelOfHost(target.hostname);
  const home = appOrigin(b.process, target.host);
  if (label !== null && label !== appLabel(b.process)) {
    return jsonAnswer(403, { error: `${b.path} is served on ${home}, not on another app's origin` });
  }
  if (label === null && (head.method === "GET" || head.method === "HEAD") && isNavigation(head) && !isUpgrade(head)) {
    // A browser opens an app's page: on the app's origin, never the node's.
    if (!b.authenticated) return redirect(`${home}${target.pathname}${target.search}`);
    if (!await authed(m, env)) return toLogin(env);
    return redirect(handOffUrl(m, b.process, target.host, target.pathname + target.search));
  }
  if (label === null && b.secure) return jsonAnswer(403, { error: `${b.path} is served only on ${home}` });
  if (b.authenticated || b.localOnly) {
    const refusal = crossSiteRefusal(head, target.host);
    if (refusal) return jsonAnswer(403, { error: refusal });
  }
  if (b.localOnly && !isLoopback(env.peer)) return jsonAnswer(403, { error: `${b.path} answers only on localhost` });
  if (b.authenticated && !await authed(m, env, b.process)) {
    if (head.method === "GET" && isNavigation(head) && !isUpgrade(head)) return toLogin(env);
    return jsonAnswer(401, { error: "log in first: POST /login", login: `${nodeOrigin(target.host)}/login` });
  }
  return null;
}

/** Where a logged-in browser goes to get `process`'s own cookie and land on `path` of its origin. */
export function handOffUrl(m: HttpServerModule, process: ProcessId, host: string, path: string): string {
  const token = m.login!.handOff(process);
  return `${appOrigin(process, host)}/session?token=${token}&redirect=${encodeURIComponent(path)}`;
}

/**
 * Whether the request carries the session cookie of its host: on the node's
 * host the node's, on an app's origin that app's own (`process`).
 */
export async function authed(m: HttpServerModule, env: ConnEnv, process?: ProcessId): Promise<boolean> {
  const login = m.login!;
  const cookies = parseCookies(env.head.headers.get("cookie") ?? undefined);
  const host = env.target.hostname;
  if (appLabelOfHost(host) === null) return await login.valid(cookies[login.cookieName], host, "node");
  return process !== undefined && await login.valid(cookies[login.appCookieName], host, `app:${process}`);
}

/** The node's session cookie, when the request carries a valid one. */
export async function nodeSession(m: HttpServerModule, env: ConnEnv): Promise<string | null> {
  const value = parseCookies(env.head.headers.get("cookie") ?? undefined)[m.login!.cookieName];
  const ok = appLabelOfHost(env.target.hostname) === null &&
    await m.login!.valid(value, env.target.hostname, "node");
  return ok ? value! : null;
}

/** A browser without a session goes to the node's /login, and comes back here after it. */
export function toLogin(env: ConnEnv): Answer {
  const back = encodeURIComponent(env.target.pathname + env.target.search);
  const onApp = appLabelOfHost(env.target.hostname) !== null;
  const node = onApp ? nodeOrigin(env.target.host) : "";
  return redirect(`${node}/login?redirect=${back}`);
}

function redirect(location: string): Answer {
  return { status: 302, headers: { location, "cache-control": "no-store" }, body: null };
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

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}
