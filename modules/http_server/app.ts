/**
 * The Hono app behind the node's HTTP port: /our and /our.js, /login and
 * /logout, the home page at /, the CLI's local endpoints, and every path and
 * WebSocket a process has bound.
 *
 * Who gets through to a bound path: a SecureBind path only on its process's
 * own subdomain (`app-pkg-publisher.localhost:PORT`); a local_only path only
 * from a loopback peer (the socket's address, never a header); an
 * authenticated one only with this node's session cookie for this host —
 * browsers are sent to /login, API clients get 401.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ConnEnded, HttpError } from "../../runtime/sockets/http1.ts";
import { acceptUpgrade, upgradeProblem } from "../../runtime/sockets/websocket.ts";
import type { ProcessId } from "../../runtime/types.ts";
import type { Binding } from "./bindings.ts";
import type { ConnEnv } from "./connection.ts";
import { errorResponse } from "./connection.ts";
import { forward } from "./forward.ts";
import { homePage, loginPage } from "./pages.ts";
import { isLoopback, localEndpoint } from "./rpc.ts";
import { readLimited } from "./body.ts";
import { SESSION_SECONDS } from "./auth.ts";
import type { HttpServerModule } from "./mod.ts";

type C = Context<{ Bindings: ConnEnv }>;

/** Limits of a browser WebSocket: one message, and what may wait unread by a client. */
export const WS_LIMITS = { maxMessage: 16 * 1024 * 1024, maxBuffered: 8 * 1024 * 1024 };

/** The subdomain a SecureBind process is served on: its id with every non-alphanumeric run as "-". */
export function subdomainOf(process: ProcessId): string {
  return process.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

export function makeApp(m: HttpServerModule) {
  const app = new Hono<{ Bindings: ConnEnv }>();
  const our = m.k.our;
  const login = () => m.login!;

  const hostOf = (c: C) => new URL(c.req.url).hostname.toLowerCase();
  const authed = async (c: C) => {
    const cookie = parseCookies(c.req.header("cookie"))[login().cookieName];
    return await login().valid(cookie, hostOf(c));
  };
  const wantsHtml = (c: C) => (c.req.header("accept") ?? "").includes("text/html");
  const toLogin = (c: C) => {
    const u = new URL(c.req.url);
    return c.redirect(`/login?redirect=${encodeURIComponent(u.pathname + u.search)}`, 302);
  };

  app.get("/our", (c) => c.text(our));
  app.get("/our.js", (c) => {
    c.header("content-type", "application/javascript");
    return c.body(`window.our = {};\nwindow.our.node = ${JSON.stringify(our)};\n`);
  });

  app.get("/login", (c) => c.html(loginPage(our, safeRedirect(c.req.query("redirect")), null)));
  app.post("/login", async (c) => {
    const who = c.env.peer.hostname;
    const wait = m.throttle.wait(who);
    if (wait > 0) {
      c.header("retry-after", String(Math.ceil(wait / 1000)));
      return c.html(loginPage(our, "/", `Too many wrong passwords: try again in ${Math.ceil(wait / 1000)} s.`), 429);
    }
    const form = new URLSearchParams(new TextDecoder().decode(await readLimited(c.req.raw, 8192, "the login form")));
    const redirect = safeRedirect(form.get("redirect") ?? undefined);
    if (!await login().checkPassword(form.get("password") ?? "")) {
      const delay = m.throttle.failed(who);
      m.k.print(1, `http: wrong password from ${who}; next attempt heard in ${delay} ms`);
      return c.html(loginPage(our, redirect, "Wrong password."), 401);
    }
    m.throttle.succeeded(who);
    const value = await login().issue(hostOf(c));
    c.header(
      "set-cookie",
      `${login().cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_SECONDS}`,
    );
    return c.redirect(redirect, 303);
  });
  app.post("/logout", (c) => {
    c.header("set-cookie", `${login().cookieName}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return c.redirect("/login", 303);
  });

  app.get("/", async (c) => {
    if (!await authed(c)) return toLogin(c);
    c.header("cache-control", "no-store");
    return c.html(homePage(our, m.homepage.list()));
  });

  app.all(
    "/rpc:distro:sys/*",
    (c) => localEndpoint(m.k, m.install, m.port, c.req.raw, c.env.peer, () => c.env.slot.proven()),
  );

  app.all("*", async (c) => {
    const url = new URL(c.req.url);
    const upgrade = c.env.head.headers.get("upgrade")?.toLowerCase() === "websocket";
    const found = (upgrade ? m.wsBindings : m.bindings).match(url.pathname);
    if (!found) {
      const other = upgrade ? "no WebSocket is bound at" : "nothing is bound at";
      return c.json({ error: `${other} ${url.pathname}` }, 404);
    }
    const { binding, params } = found;
    const gate = await admit(c, binding);
    if (gate) return gate;
    if (upgrade) return openWebSocket(c, binding);
    if (binding.static) return serveStatic(c, binding, url);
    return forward(m.k, binding, params, c.req.raw, c.env.peer, login().cookieName, m.timeoutSeconds);
  });

  /** Whether the request may reach `binding`: null, or the refusal. */
  const admit = async (c: C, b: Binding): Promise<Response | null> => {
    if (b.secure) {
      const sub = subdomainOf(b.process);
      const host = hostOf(c);
      if (!host.startsWith(`${sub}.`)) {
        return c.json({ error: `${b.path} is served only on http://${sub}.localhost:${m.port}` }, 403);
      }
    } else if (hostOf(c).split(".").length > 1 && !isIp(hostOf(c)) && hostOf(c).endsWith(".localhost")) {
      // An app's subdomain serves only that app's secure paths: others stay on the main host.
      return c.json({ error: `${b.path} is not served on an app's subdomain` }, 403);
    }
    if (b.localOnly && !isLoopback(c.env.peer)) return c.json({ error: `${b.path} answers only on localhost` }, 403);
    if (b.authenticated && !await authed(c)) {
      if (wantsHtml(c) && c.req.method === "GET") return toLogin(c);
      return c.json({ error: "log in first: POST /login", login: "/login" }, 401);
    }
    return null;
  };

  const serveStatic = (c: C, b: Binding, url: URL): Response => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return c.json({ error: "use GET" }, 405);
    const s = b.static!;
    if (b.path === `/${b.process}` && !url.pathname.endsWith("/")) {
      // A UI's relative links resolve under its root only from "/process/".
      return c.redirect(`${url.pathname}/${url.search}`, 301);
    }
    const headers = { etag: s.etag, "cache-control": "no-cache" };
    if (c.req.header("if-none-match") === s.etag) return new Response(null, { status: 304, headers });
    return new Response(s.bytes as BodyInit, {
      headers: { ...headers, "content-type": s.mime ?? "application/octet-stream" },
    });
  };

  const openWebSocket = async (c: C, b: Binding): Promise<Response> => {
    const problem = upgradeProblem(c.env.head);
    if (problem) return c.json({ error: problem }, 400);
    const { slot, r, head } = c.env;
    c.env.upgraded = true;
    slot.proven();
    try {
      const ws = await acceptUpgrade(slot.conn, r, head, WS_LIMITS);
      m.channels.run(b, ws).catch(() => {}).finally(() => slot.close());
    } catch {
      slot.close();
    }
    return new Response(null); // not written: the connection is the WebSocket's now
  };

  app.onError((e, c) => {
    if (e instanceof ConnEnded) throw e; // the client left: nothing to answer
    if (!(e instanceof HttpError)) m.k.print(0, `http: ${(e as Error).stack ?? e}`);
    else m.k.print(1, `http: ${e.status} to ${c.env.slot.remote}: ${e.message}`);
    return errorResponse(e);
  });
  return app;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":") || host.startsWith("[");
}

/** Only a path on this node: never "//evil.example" or "https://...". */
function safeRedirect(r: string | undefined): string {
  return r && r.startsWith("/") && !r.startsWith("//") && !r.startsWith("/\\") ? r : "/";
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}
