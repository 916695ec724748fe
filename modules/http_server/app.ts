/**
 * The Hono app behind the node's HTTP port: /our and /our.js, /login and
 * /logout, the home page at /, the CLI's local endpoints, and every
 * WebSocket a process has bound. Bound HTTP paths are answered before the
 * app sees them (bound.ts), with the same gate as the WebSockets here.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ConnEnded, HttpError } from "../../runtime/sockets/http1.ts";
import type { Answer } from "../../runtime/sockets/http1_stream.ts";
import { acceptUpgrade, upgradeProblem } from "../../runtime/sockets/websocket.ts";
import type { Binding } from "./bindings.ts";
import type { ConnEnv } from "./connection.ts";
import { errorResponse } from "./connection.ts";
import { admit, authed, toLogin } from "./bound.ts";
import { homePage, loginPage } from "./pages.ts";
import { localEndpoint } from "./rpc.ts";
import { readLimited } from "./body.ts";
import { SESSION_SECONDS } from "./auth.ts";
import type { HttpServerModule } from "./mod.ts";

type C = Context<{ Bindings: ConnEnv }>;

/** Limits of a browser WebSocket: one message, and what may wait unread by a client. */
export const WS_LIMITS = { maxMessage: 16 * 1024 * 1024, maxBuffered: 8 * 1024 * 1024 };

export function makeApp(m: HttpServerModule) {
  const app = new Hono<{ Bindings: ConnEnv }>();
  const our = m.k.our;
  const login = () => m.login!;

  const hostOf = (c: C) => c.env.target.hostname;

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
    if (!await authed(m, c.env)) return toResponse(toLogin(c.env));
    c.header("cache-control", "no-store");
    return c.html(homePage(our, m.homepage.list()));
  });

  app.all(
    "/rpc:distro:sys/*",
    (c) => localEndpoint(m.k, m.install, m.port, c.req.raw, c.env.peer, () => c.env.slot.proven()),
  );

  app.all("*", async (c) => {
    const { pathname } = c.env.target;
    const upgrade = c.env.head.headers.get("upgrade")?.toLowerCase() === "websocket";
    // Bound HTTP paths never get here (bound.ts answers them first): an HTTP request here matched none.
    const found = upgrade ? m.wsBindings.match(pathname) : null;
    if (!found) {
      const other = upgrade ? "no WebSocket is bound at" : "nothing is bound at";
      return c.json({ error: `${other} ${pathname}` }, 404);
    }
    const gate = await admit(m, c.env, found.binding);
    if (gate) return toResponse(gate);
    return openWebSocket(c, found.binding);
  });

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

/** Only a path on this node: never "//evil.example" or "https://...". */
function safeRedirect(r: string | undefined): string {
  return r && r.startsWith("/") && !r.startsWith("//") && !r.startsWith("/\\") ? r : "/";
}

function toResponse(a: Answer): Response {
  return new Response(a.body as BodyInit | null, { status: a.status, headers: a.headers as Record<string, string> });
}
