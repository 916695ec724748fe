/**
 * The node's origin and its apps' origins, and login, attacked with plain
 * HTTP requests carrying what a browser would send (Origin, Sec-Fetch-*,
 * cookies, Host): who gets a session where, what answers whom, and how wrong
 * passwords are slowed without one client locking out another.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { APP, appSession, logIn, PASSWORD, raw, RIVAL, withApp } from "./http_helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A login form as the node serves it: its token, read off the page. */
async function formToken(base: string): Promise<string> {
  const html = await (await fetch(`${base}/login`)).text();
  return /name="token" value="([^"]+)"/.exec(html)![1];
}

/** The statuses of answers, sorted, their bodies read off. */
async function statuses(answers: Promise<Response>[]): Promise<number[]> {
  return (await Promise.all(answers.map((a) => a.then(drain)))).map((r) => r.status).sort();
}

function postLogin(base: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${base}/login`, {
    method: "POST",
    body: new URLSearchParams({ redirect: "/", ...fields }),
    headers,
    redirect: "manual",
  });
}

Deno.test("origins attack: wrong passwords from scripts or a foreign page never delay a login form; all are bounded", async () => {
  await withApp(async (n, base) => {
    const own = { origin: `http://127.0.0.1:${n.port}`, "sec-fetch-site": "same-origin" };
    // A page elsewhere posting the form: refused before the password is looked at, counted nowhere.
    for (let i = 0; i < 5; i++) {
      const foreign = await postLogin(base, { password: `guess${i}` }, {
        origin: "http://localhost:1234",
        "sec-fetch-site": "same-site",
      });
      assertEquals(foreign.status, 403);
      await foreign.body?.cancel();
    }
    // Even from our own origin, a browser's POST without a form this node served does not count.
    const tokenless = await postLogin(base, { password: "guess" }, own);
    assertEquals(tokenless.status, 403);
    assertMatch(await tokenless.text(), /expired/);
    // A script without a form token: one guess, and one sent beside it too soon. (Side by side, not one after the
    // other: how long after the first the second comes must not decide the test.)
    assertEquals(await statuses([postLogin(base, { password: "nope" }), postLogin(base, { password: "nope" })]), [
      401,
      429,
    ]);
    // None of that delays the owner's form.
    const ok = await postLogin(base, { password: PASSWORD, token: await formToken(base) }, own);
    assertEquals(ok.status, 303);
    await ok.body?.cancel();
    // A form of its own backs off after a wrong password; another form does not wait for it.
    const mine = await formToken(base);
    const twice = [
      postLogin(base, { password: "x", token: mine }, own),
      postLogin(base, { password: "x", token: mine }, own),
    ];
    assertEquals(await statuses(twice), [401, 429]);
    // Brute force with a fresh form each time: the overall budget (10 wrong passwords, then 1 per 6 s) ends it.
    let refused = 0;
    for (let i = 0; i < 12 && !refused; i++) {
      const r = await postLogin(base, { password: `g${i}`, token: await formToken(base) });
      await r.body?.cancel();
      if (r.status === 429) refused = i + 1;
      else assertEquals(r.status, 401);
    }
    assert(refused > 0 && refused <= 10, `fresh forms were refused only at attempt ${refused}`);
    // A forged token counts for nothing: a changed MAC, or the same MAC written with its last character's spare bits
    // set (the decoder alone would read both alike).
    const [expiry, nonce, mac] = (await formToken(base)).split(".");
    const forgeries = [
      `${expiry}.${nonce}.${mac[0] === "A" ? "B" : "A"}${mac.slice(1)}`,
      `${expiry}.${nonce}.${mac.slice(0, -1)}${B64URL[B64URL.indexOf(mac.at(-1)!) ^ 0b11]}`,
    ];
    for (const forged of forgeries) {
      assertEquals((await postLogin(base, { password: PASSWORD, token: forged }).then(drain)).status, 403, forged);
    }
  });
});

Deno.test("origins attack: guesses sent side by side count as if sent one after another", async () => {
  await withApp(async (_n, base) => {
    // Fresh forms, so no form's own back-off stops them: only the overall budget (10, then 1 per 6 s) can.
    const tokens = [];
    for (let i = 0; i < 30; i++) tokens.push(await formToken(base));
    const started = Date.now();
    const answers = await statuses(tokens.map((token, i) => postLogin(base, { password: `g${i}`, token })));
    // The budget refills while they are answered: one more per 6 s that passed.
    const allowed = 10 + Math.floor((Date.now() - started) / 6000);
    const heard = answers.filter((s) => s === 401).length;
    assert(heard <= allowed, `${heard} of 30 guesses sent at once were checked (the budget allows ${allowed})`);
    assertEquals(answers.filter((s) => s !== 401 && s !== 429), []);
    // The owner's right password, once the budget is spent, waits too.
    assertEquals(await statuses([postLogin(base, { password: PASSWORD, token: await formToken(base) })]), [429]);
  });
});

Deno.test("origins attack: the node's pages and /rpc answer only the node's own page; apps' answers never run there", async () => {
  await withApp(async (n, base) => {
    const cookie = await logIn(base);
    const rpc = (headers: Record<string, string>) =>
      fetch(`${base}/rpc:distro:sys/message`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ process: `${APP}`, body: "{}", expects_response: null }),
      }).then(drain);
    // The CLI: no cookie, no browser headers.
    assertEquals((await rpc({})).status, 200);
    // A browser on the node's own origin, logged in, but without the page's token: refused.
    const same = { origin: `http://127.0.0.1:${n.port}`, "sec-fetch-site": "same-origin" };
    assertEquals((await rpc({ ...same, cookie })).status, 403);
    // With the token the node's home page carries, its own page may.
    const home = await (await fetch(`${base}/`, { headers: { cookie } })).text();
    const pageToken = /name="token" value="([^"]+)"/.exec(home)![1];
    assertEquals((await rpc({ ...same, cookie, "x-hyperdeno-page-token": pageToken })).status, 200);
    // From an app's origin: the node's endpoints are not there.
    const appHost = `${appLabel(APP)}.localhost:${n.port}`;
    const fromApp = await raw(
      n.port,
      `POST /rpc:distro:sys/install HTTP/1.1\r\nHost: ${appHost}\r\nOrigin: http://${appHost}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    );
    assertEquals(fromApp.status, 404);
    assertMatch(fromApp.text, /not served|app's origin/);

    // Logout from a browser needs the page's token; a cross-site one is refused outright.
    const crossOut = await fetch(`${base}/logout`, {
      method: "POST",
      headers: { cookie, origin: "http://evil.example", "sec-fetch-site": "cross-site" },
      redirect: "manual",
    }).then(drain);
    assertEquals(crossOut.status, 403);
    const noToken = await fetch(`${base}/logout`, { method: "POST", headers: { cookie, ...same }, redirect: "manual" })
      .then(drain);
    assertEquals(noToken.status, 403);
    assertEquals((await fetch(`${base}/`, { headers: { cookie } }).then(drain)).status, 200, "still logged in");

    // A browser navigating to an app's page on the node's host is sent to the app's origin.
    const nav = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "sec-fetch-site": "none" };
    const open = await fetch(`${base}/${APP}/public`, { headers: nav, redirect: "manual" }).then(drain);
    assertEquals([open.status, open.headers.get("location")], [302, `http://${appHost}/${APP}/public`]);
    const authed = await fetch(`${base}/${APP}/`, { headers: { ...nav, cookie }, redirect: "manual" }).then(drain);
    assertMatch(authed.headers.get("location")!, new RegExp(`^http://${appHost}/session\\?token=`));
    // What an app answers on the node's host cannot run as one of its pages.
    const page = await fetch(`${base}/${APP}/`, { headers: { cookie } }).then(drain);
    assertEquals(page.status, 200);
    assertEquals(page.headers.get("content-security-policy"), "sandbox");
    assertEquals(page.headers.get("x-content-type-options"), "nosniff");
    const echo = await fetch(`${base}/${APP}/public`).then(drain);
    assertEquals(echo.headers.get("content-security-policy"), "sandbox");

    // A hand-off token is good once, and only for its own app's origin.
    const subCookie = await appSession(base, cookie, APP, `/${APP}/`);
    const r = await fetch(`${base}/login?redirect=${encodeURIComponent(`/${APP}/`)}`, {
      headers: { cookie },
      redirect: "manual",
    }).then(drain);
    const token = new URL(r.headers.get("location")!).searchParams.get("token")!;
    const rivalHost = `${appLabel(RIVAL)}.localhost:${n.port}`;
    const land = (host: string) =>
      raw(
        n.port,
        `GET /session?token=${token}&redirect=${encodeURIComponent(`/${APP}/`)} HTTP/1.1\r\nHost: ${host}\r\n` +
          `Connection: close\r\n\r\n`,
      );
    assertEquals((await land(rivalHost)).status, 400, "another app's origin takes no hand-off for this one");
    assertEquals((await land(appHost)).status, 303);
    assertEquals((await land(appHost)).status, 403, "a hand-off is used once");
    // On its own origin the app's cookie opens its paths, WebSockets included, and the app never sees it.
    const echoed = await raw(
      n.port,
      `POST /${APP}/api/echo HTTP/1.1\r\nHost: ${appHost}\r\nCookie: ${subCookie}; theirs=1\r\n` +
        `Origin: http://${appHost}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`,
    );
    assertEquals(echoed.status, 200);
    assertMatch(echoed.text, /"cookie":"theirs=1"/);
    // Another site's page on the app's origin's paths: refused like on the node's.
    const cross = await raw(
      n.port,
      `POST /${APP}/api/echo HTTP/1.1\r\nHost: ${appHost}\r\nCookie: ${subCookie}\r\n` +
        `Origin: http://localhost:${n.port}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`,
    );
    assertEquals(cross.status, 403);
    // The node's pages are not served on an app's origin: its /login and / lead to the node's.
    const login = await raw(
      n.port,
      `GET /login?redirect=%2F HTTP/1.1\r\nHost: ${appHost}\r\nConnection: close\r\n\r\n`,
    );
    assertEquals(login.status, 302);
    assertMatch(login.text, new RegExp(`location: http://localhost:${n.port}/login\\?redirect=%2F`, "i"));
    const logout = await raw(n.port, `POST /logout HTTP/1.1\r\nHost: ${appHost}\r\nContent-Length: 0\r\n\r\n`);
    assertEquals(logout.status, 404);

    // Logging out (a script holding the cookie) ends every session: the node's and the app's.
    assertEquals(
      (await fetch(`${base}/logout`, { method: "POST", headers: { cookie }, redirect: "manual" })
        .then(drain)).status,
      303,
    );
    assertEquals((await fetch(`${base}/`, { headers: { cookie }, redirect: "manual" }).then(drain)).status, 302);
    const after = await raw(
      n.port,
      `POST /${APP}/api/echo HTTP/1.1\r\nHost: ${appHost}\r\nCookie: ${subCookie}\r\nContent-Length: 0\r\n` +
        `Connection: close\r\n\r\n`,
    );
    assertEquals(after.status, 401);
  });
});

async function drain(r: Response): Promise<Response> {
  await r.body?.cancel();
  return r;
}

Deno.test("origins attack: a page on a foreign name rebound to 127.0.0.1 gets nothing of the node (local_only, login, WebSocket)", async () => {
  await withApp(async (n) => {
    // What a browser sends once evil.example resolves to 127.0.0.1: its own name in Host, its own origin as Origin,
    // same-origin Fetch Metadata. The peer is loopback, so local_only alone would let it in.
    const P = n.port;
    const rebound = (host: string, request: string) =>
      raw(
        P,
        `${request} HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nSec-Fetch-Site: same-origin\r\n` +
          `Content-Length: 0\r\nConnection: close\r\n\r\n`,
      );
    for (const host of [`evil.example:${P}`, `EVIL.example.:${P}`, `a.b.localhost:${P}`, `localhost.:${P}`]) {
      const local = await rebound(host, `POST /${APP}/local`);
      assertEquals(local.status, 421, `${host} reached a local_only path: ${local.text}`);
      assertMatch(local.text, /is not this node/);
      // The login form's token would let it spend the overall budget of wrong passwords, locking the owner out.
      const form = await rebound(host, "GET /login");
      assertEquals(form.status, 421, `${host} got a login form`);
      assert(!form.text.includes('name="token"'));
      assertEquals((await rebound(host, "GET /our")).status, 421);
      const ws = await raw(
        P,
        `GET /${APP}/open-ws HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://${host}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      assertEquals(ws.status, 421, `${host} opened a WebSocket`);
    }
    // The node's own names still answer: localhost, its addresses, an app's origin.
    for (const host of [`localhost:${P}`, `127.0.0.1:${P}`, `[::1]:${P}`, `${appLabel(APP)}.localhost:${P}`]) {
      assertEquals((await rebound(host, "GET /our")).status, 200, host);
    }
    assertEquals((await rebound(`127.0.0.1:${P}`, `POST /${APP}/local`)).status, 200);
  });
});

Deno.test("origins attack: the login's redirect never leaves the node's origin (tabs, backslashes, dot segments)", async () => {
  await withApp(async (n, base) => {
    const own = `http://localhost:${n.port}`;
    for (
      const evil of ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "/.//evil.example", "/\t\\evil.example"]
    ) {
      // Logging in from a link such as /login?redirect=%2F%09%2Fevil.example: the form carries it back.
      const page = await (await fetch(`${base}/login?redirect=${encodeURIComponent(evil)}`)).text();
      const carried = /name="redirect" value="([^"]*)"/.exec(page)![1];
      const r = await postLogin(base, { password: PASSWORD, redirect: evil }).then(drain);
      assertEquals(r.status, 303);
      // Where Chromium goes: the WHATWG URL of the Location against the page it answered.
      const to = new URL(r.headers.get("location")!, own);
      assertEquals(
        to.origin,
        own,
        `${JSON.stringify(evil)} (the form carried ${JSON.stringify(carried)}) led to ${to}`,
      );
    }
  });
});

Deno.test("origins attack: a local script spending the overall login budget does not lock out a browser that logged in before", async () => {
  await withApp(async (_n, base) => {
    const own = { origin: base, "sec-fetch-site": "same-origin" };
    // The owner's browser logged in once (and out again): whatever the node gave it to keep, it keeps.
    const first = await postLogin(base, { password: PASSWORD, token: await formToken(base) }, own).then(drain);
    assertEquals(first.status, 303);
    const kept = first.headers.getSetCookie().map((c) => c.split(";")[0]).filter((c) =>
      !c.startsWith("hyperware-auth_")
    );
    // A local script takes a fresh form for every guess (or a page on a rebound name would): 10 wrong ones spend
    // the overall budget, and one more every 6 s keeps it spent.
    let spent = false;
    for (let i = 0; i < 12 && !spent; i++) {
      const r = await postLogin(base, { password: `g${i}`, token: await formToken(base) }).then(drain);
      spent = r.status === 429;
    }
    assert(spent, "the overall budget was never spent");
    // A browser that never logged in waits with everyone else: guessing stays bounded overall.
    const stranger = await postLogin(base, { password: PASSWORD, token: await formToken(base) }, own).then(drain);
    assertEquals(stranger.status, 429);
    // The owner's browser, sending what it kept, logs in at once.
    const owner = await postLogin(base, { password: PASSWORD, token: await formToken(base) }, {
      ...own,
      cookie: kept.join("; "),
    }).then(drain);
    assertEquals(owner.status, 303, "the owner was locked out by someone else's guesses");
    // Its own wrong password backs it off, but it is never waiting on the stranger's budget.
    const wrong = await postLogin(base, { password: "typo", token: await formToken(base) }, {
      ...own,
      cookie: kept.join("; "),
    })
      .then(drain);
    assertEquals(wrong.status, 401);
  });
});
