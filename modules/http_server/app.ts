/**
 * The Hono app behind the node's HTTP port: /our and /our.js, /login and
 * /logout, the home page at /, the CLI's local endpoints, and every
 * WebSocket a process has bound. Bound HTTP paths are answered before the
 * app sees them (bound.ts), with the same gate as the WebSockets here.
 * On an app's origin (origins.ts) only that app's paths, /our, /our.js and
 * /session (the hand-off that gives the browser the app's own cookie) answer.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ConnEnded, HttpError } from "../../runtime/sockets/http1.ts";
import type { Answer } from "../../runtime/sockets/http1_stream.ts";
import { acceptUpgrade, isUpgrade, upgradeProblem } from "../../runtime/sockets/websocket.ts";
import type { Binding } from "./bindings.ts";
import type { ConnEnv } from "./connection.ts";
import { errorResponse } from "./connection.ts";
import { admit, handOffUrl, nodeSession, parseCookies, toLogin } from "./bound.ts";
import { homePage, loginPage } from "./pages.ts";
import { nodeInfo } from "./node_info.ts";
import { localEndpoint, PAGE_TOKEN_HEADER } from "./rpc.ts";
import { appLabel, appLabelOfHost, nodeOrigin, processOfPath } from "./origins.ts";
import { crossSiteRefusal, fromBrowser } from "./cross_site.ts";
import { readLimited } from "./body.ts";
import { DEVICE_SECONDS, SESSION_SECONDS } from "./auth.ts";
import type { HttpServerModule } from "./mod.ts";

type C = Context<{ Bindings: ConnEnv }>;

/** Limits of a browser WebSocket: one message, and what may wait unread by a client. */
export const WS_LIMITS = { maxMessage: 16 * 1024 * 1024, maxBuffered: 8 * 1024 * 1024 };

export function makeApp(m: HttpServerModule) {
  const app = new Hono<{ Bindings: ConnEnv }>();
  const our = m.k.our;
  const login = () => m.login!;

  // An app's origin serves that app's paths (bound.ts), /our and /our.js, the hand-off, and nothing of the node's.
  app.use("*", async (c, next) => {
    const label = appLabelOfHost(c.env.target.hostname);
    if (label === null) return await next();
    const { pathname, search, host } = c.env.target;
    if (pathname === "/our" || pathname === "/our.js" || isUpgrade(c.env.head)) return await next();
    if (pathname === "/session") return await landHandOff(c, label);
    // Apps send browsers to "/login" and "/" as they did on the node's origin: those are the node's.
    if (pathname === "/login" || pathname === "/") return c.redirect(`${nodeOrigin(host)}${pathname}${search}`, 302);
    return c.json(
      { error: `nothing at ${pathname} on an app's origin: the node's pages are at ${nodeOrigin(host)}` },
      404,
    );
  });

  app.get("/our", (c) => c.text(our));
  app.get("/our.js", (c) => {
    c.header("content-type", "application/javascript");
    return c.body(`window.our = {};\nwindow.our.node = ${JSON.stringify(our)};\n`);
  });

  app.get("/login", async (c) => {
    const redirect = safeRedirect(c.req.query("redirect"));
    const process = processOfPath(redirect);
    if (process && await nodeSession(m, c.env)) return toApp(c, process, redirect);
    return nodePage(c, loginPage(our, redirect, null, await login().formToken()));
  });
  app.post("/login", async (c) => {
    const refusal = crossSiteRefusal(c.env.head, c.env.target.host);
    if (refusal) return c.json({ error: `${refusal}: log in from ${c.env.target.host}/login` }, 403);
    const form = new URLSearchParams(new TextDecoder().decode(await readLimited(c.req.raw, 8192, "the login form")));
    const redirect = safeRedirect(form.get("redirect") ?? undefined);
    const token = form.get("token");
    // A browser's attempt counts only with the token of a form this node served: a foreign page has none.
    const nonce = token === null ? null : await login().formNonce(token);
    if (nonce === null && (token !== null || fromBrowser(c.env.head))) {
      const again = loginPage(
        our,
        redirect,
        "The login form had expired: enter the password again.",
        await login().formToken(),
      );
      return nodePage(c, again, 403);
    }
    // Each form has its own back-off; scripts posting without one share theirs; a device that logged in before
    // has its own, outside the overall budget.
    const device = await login().deviceNonce(parseCookies(c.req.header("cookie"))[login().deviceCookieName]);
    const key = device ? `device ${device}` : nonce ?? "scripts";
    const retry = token ?? await login().formToken();
    const judged = await m.throttle.judge(
      key,
      device !== null,
      async () => await login().checkPassword(form.get("password") ?? "") || null,
    );
    if ("refused" in judged) {
      const s = Math.ceil(judged.refused / 1000);
      c.header("retry-after", String(s));
      return nodePage(c, loginPage(our, redirect, `Too many wrong passwords: try again in ${s} s.`, retry), 429);
    }
    if ("wrong" in judged) {
      const from = device ? "a known device" : nonce ? "a login form" : "a script";
      m.k.print(
        1,
        `http: wrong password from ${from} (${c.env.peer.hostname}); its next attempt heard in ${judged.wrong} ms`,
      );
      return nodePage(c, loginPage(our, redirect, "Wrong password.", retry), 401);
    }
    const value = await login().issue(c.env.target.hostname);
    c.header(
      "set-cookie",
      `${login().cookieName}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_SECONDS}`,
    );
    // Sent only to /login: no app's path ever sees it.
    c.header(
      "set-cookie",
      `${login().deviceCookieName}=${await login().deviceToken()}; Path=/login; HttpOnly; SameSite=Strict; ` +
        `Max-Age=${DEVICE_SECONDS}`,
      { append: true },
    );
    const process = processOfPath(redirect);
    if (process) return c.redirect(handOffUrl(m, process, c.env.target.host, redirect), 303);
    return c.redirect(redirect, 303);
  });
  app.post("/logout", async (c) => {
    const refusal = crossSiteRefusal(c.env.head, c.env.target.host);
    if (refusal) return c.json({ error: refusal }, 403);
    const session = await nodeSession(m, c.env);
    if (session) {
      // A browser logs out from the node's own page, which carries the session's token; a script holds the cookie.
      const form = new URLSearchParams(new TextDecoder().decode(await readLimited(c.req.raw, 8192, "the form")));
      if (fromBrowser(c.env.head) && !await login().checkPageToken(session, form.get("token"))) {
        return c.json({ error: "log out from the node's home page" }, 403);
      }
      login().logOutEverywhere();
    }
    c.header("set-cookie", `${login().cookieName}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    return c.redirect("/login", 303);
  });

  app.get("/", async (c) => {
    const session = await nodeSession(m, c.env);
    if (!session) return toResponse(toLogin(c.env));
    c.header("cache-control", "no-store");
    return nodePage(c, homePage(our, m.homepage.list(), await login().pageToken(session), await nodeInfo(m.k)));
  });

  app.all(
    "/rpc:distro:sys/*",
    (c) =>
      localEndpoint(m.k, m.install, m.port, c.req.raw, c.env.peer, () => c.env.slot.proven(), async () => {
        const session = await nodeSession(m, c.env);
        return session !== null && await login().checkPageToken(session, c.req.header(PAGE_TOKEN_HEADER) ?? null);
      }, m.devPublisher),
  );

  /** A page of the node's: never framed (an app's page cannot overlay the login form), no Referer out. */
  const nodePage = (c: C, html: string, status: 200 | 401 | 403 | 429 = 200) => {
    c.header("x-frame-options", "DENY");
    c.header("content-security-policy", "frame-ancestors 'none'");
    c.header("referrer-policy", "same-origin");
    return c.html(html, status);
  };

  /** A logged-in browser on its way to `process`'s origin. */
  const toApp = (c: C, process: string, path: string) => {
    c.header("cache-control", "no-store");
    c.header("referrer-policy", "no-referrer");
    return c.redirect(handOffUrl(m, process, c.env.target.host, path), 302);
  };

  /** GET /session on an app's origin: a hand-off token from the node's origin becomes that app's own cookie. */
  const landHandOff = async (c: C, label: string) => {
    c.header("cache-control", "no-store");
    c.header("referrer-policy", "no-referrer");
    const redirect = safeRedirect(c.req.query("redirect"));
    const process = processOfPath(redirect);
    if (c.req.method !== "GET" || !process || appLabel(process) !== label) {
      return c.json({ error: "not a hand-off to this app's origin: open the app from the node's home page" }, 400);
    }
    if (!login().takeHandOff(c.req.query("token") ?? null, process)) {
      return c.json(
        { error: "this sign-in link was used or has expired: open the app from the node's home page" },
        403,
      );
    }
    const value = await login().issue(c.env.target.hostname, `app:${process}`);
    c.header(
      "set-cookie",
      `${login().appCookieName}=${value}; Path=/${process}; HttpOnly; SameSite=Lax; Max-Age=${SESSION_SECONDS}`,
    );
    return c.redirect(redirect, 303);
  };

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

const HERE = "http://here.invalid";

/**
 * Only a path on this node: never "//evil.example" or "https://...", nor what
 * a browser makes one of when it reads the Location (it drops tabs and
 * newlines, reads "\\" as "/", resolves "/.//x" to "//x"), so the path is
 * the URL parser's own, and stays on this origin.
 */
function safeRedirect(r: string | undefined): string {
  if (!r?.startsWith("/")) return "/";
  try {
    const u = new URL(r, HERE);
    return u.origin === HERE && !u.pathname.startsWith("//") ? u.pathname + u.search : "/";
  } catch {
    return "/";
  }
}

function toResponse(a: Answer): Response {
  return new Response(a.body as BodyInit | null, { status: a.status, headers: a.headers as Record<string, string> });
}
