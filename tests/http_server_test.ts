/**
 * http-server:distro:sys with real clients: Deno's fetch and WebSocket
 * against a booted node with tests/fixtures/http_app installed.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { injectJson, waitFor } from "../runtime/testing.ts";
import { APP, appSession, logIn, raw, RIVAL, withApp } from "./http_helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import { decode, encode } from "@msgpack/msgpack";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("http: a bound path answers through its process, with url_params and query_params", async () => {
  await withApp(async (_n, base) => {
    const r = await fetch(`${base}/${APP}/api/items/42/name%20x?q=1&r=two`);
    assertEquals(r.status, 200);
    const j = await r.json();
    assertEquals(j.bound_path, `/${APP}/api/items/:id/:part`);
    assertEquals(j.url_params, { id: "42", part: "name x" });
    assertEquals(j.query_params, { q: "1", r: "two" });
    assertEquals(j.method, "GET");
  });
});

Deno.test("http: authenticated paths want the session cookie: browsers go to /login, API clients get 401", async () => {
  await withApp(async (_n, base) => {
    const api = await fetch(`${base}/${APP}/api/echo`, { method: "POST", body: "x" });
    assertEquals(api.status, 401);
    await api.body?.cancel();
    const browser = await fetch(`${base}/${APP}/api/echo`, { headers: { accept: "text/html" }, redirect: "manual" });
    assertEquals(browser.status, 302);
    assertEquals(browser.headers.get("location"), `/login?redirect=${encodeURIComponent(`/${APP}/api/echo`)}`);
    await browser.body?.cancel();
    // A wrong password: 401, and a try sent beside it is 429 (an attempt counts from when it begins, so however
    // slow the machine, the second is refused while the first is checked or backing off).
    const post = () => fetch(`${base}/login`, { method: "POST", body: new URLSearchParams({ password: "nope" }) });
    const pair = await Promise.all([post(), post()]);
    assertEquals(pair.map((r) => r.status).sort(), [401, 429]);
    const [wrong, soon] = pair[0].status === 401 ? pair : [pair[1], pair[0]];
    assertMatch(await wrong.text(), /Wrong password/);
    assert(Number(soon.headers.get("retry-after")) >= 1);
    await soon.body?.cancel();
    await new Promise((r) => setTimeout(r, 600)); // the first back-off is 500 ms
    const cookie = await logIn(base);
    assertMatch(cookie, /^hyperware-auth_fake\.dev=/);
    const ok = await fetch(`${base}/${APP}/api/echo`, { method: "POST", body: "hello", headers: { cookie } });
    assertEquals(ok.status, 200);
    const j = await ok.json();
    assertEquals([j.body, j.method], ["hello", "POST"]);
    assertEquals(j.cookie, null, "the session cookie is not handed to the app");
    // A forged or tampered cookie is refused.
    // A character inside the signature (the last one carries padding bits a decoder may ignore).
    const at = cookie.length - 10;
    const forged = cookie.slice(0, at) + (cookie[at] === "A" ? "B" : "A") + cookie.slice(at + 1);
    const bad = await fetch(`${base}/${APP}/api/echo`, { method: "POST", body: "x", headers: { cookie: forged } });
    assertEquals(bad.status, 401);
    await bad.body?.cancel();
    // Logout clears the cookie.
    const out = await fetch(`${base}/logout`, { method: "POST", headers: { cookie }, redirect: "manual" });
    assertMatch(out.headers.getSetCookie()[0], /Max-Age=0/);
    await out.body?.cancel();
  });
});

Deno.test("http: cache serves the blob itself with an ETag; local_only by peer address; 504; malformed answers 502", async () => {
  await withApp(async (n, base) => {
    const cached = await fetch(`${base}/${APP}/cached`);
    assertEquals([cached.status, await cached.text()], [200, "cached bytes"]);
    const etag = cached.headers.get("etag")!;
    const again = await fetch(`${base}/${APP}/cached`, { headers: { "if-none-match": etag } });
    assertEquals(again.status, 304);
    await again.body?.cancel();
    // local_only: loopback gets in; X-Forwarded-For claims change nothing either way.
    const local = await fetch(`${base}/${APP}/local`, { headers: { "x-forwarded-for": "8.8.8.8" } });
    assertEquals(local.status, 200);
    await local.body?.cancel();
    // 504 when the process does not answer in time.
    n.http.timeoutSeconds = 1;
    const t0 = Date.now();
    const slow = await fetch(`${base}/${APP}/slow`);
    assertEquals(slow.status, 504);
    assert(Date.now() - t0 < 10_000, "the 1 s answer timeout ended the wait, not the client's patience");
    assertMatch((await slow.json()).error, /did not answer within 1 s/);
    const bad = await fetch(`${base}/${APP}/malformed`);
    assertEquals(bad.status, 502);
    assertMatch((await bad.json()).error, /malformed HttpResponse/);
    // Unknown paths and processes: 404, and the node still serves.
    const none = await fetch(`${base}/nobody:nothing:test.os/x`);
    assertEquals(none.status, 404);
    await none.body?.cancel();
    assertEquals(await (await fetch(`${base}/our`)).text(), "fake.dev");
  });
});

Deno.test("http: WebSocket greets, echoes and carries pushes from the process; closing tells the process", async () => {
  await withApp(async (n, base) => {
    const cookie = await logIn(base);
    const refused = new WebSocket(`${base.replace("http", "ws")}/${APP}/ws`);
    const refusal = await new Promise<string>((r) => {
      refused.onerror = () => r("error");
      refused.onopen = () => r("open");
    });
    assertEquals(refusal, "error", "an authenticated WebSocket path refuses a client without the cookie");
    const ws = new WebSocket(`${base.replace("http", "ws")}/${APP}/ws`, { headers: { cookie } });
    const got: string[] = [];
    ws.onmessage = (e) => got.push(String(e.data));
    await new Promise((r) => ws.onopen = r);
    await waitFor("welcome", () => got.includes("welcome"));
    ws.send("hi there");
    await waitFor("echo", () => got.includes("echo: hi there"));
    const push = await fetch(`${base}/${APP}/api/push`, { method: "POST", body: "news", headers: { cookie } });
    assertEquals((await push.json()).pushed, 1);
    await waitFor("push", () => got.includes("news"));
    assertEquals(n.http.channels.size, 1);
    ws.close();
    await waitFor("the channel closes", () => n.http.channels.size === 0);
  });
});

Deno.test("http: a process's bindings and channels go away when it exits", async () => {
  await withApp(async (n, base) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/${APP}/open-ws`);
    const closed = new Promise<number>((r) => ws.onclose = (e) => r(e.code));
    await new Promise((r) => ws.onopen = r);
    assertEquals(n.http.bindings.has(`/${APP}/public`), true);
    n.kernel.processExited(APP);
    assertEquals(n.http.bindings.has(`/${APP}/public`), false);
    assertEquals(await closed, 1001);
  });
});

Deno.test("http: 48 MiB bodies go up and down in the blob; past 64 MiB a body reaches the process as a file", async () => {
  await withApp(async (_n, base) => {
    const cookie = await logIn(base);
    const size = 48 * 2 ** 20;
    const up = await fetch(`${base}/${APP}/api/echo`, {
      method: "POST",
      body: new Uint8Array(size).fill(1),
      headers: { cookie },
    });
    assertEquals((await up.json()).size, size);
    const down = await fetch(`${base}/${APP}/big?mib=48`);
    assertEquals((await down.arrayBuffer()).byteLength, size);
    const over = await fetch(`${base}/${APP}/api/echo`, {
      method: "POST",
      body: new Uint8Array(65 * 2 ** 20),
      headers: { cookie },
    });
    const j = await over.json();
    assertEquals(j.size, 0);
    assertMatch(j.body_file, /^\/http-app:test\.os\/tmp\/http-in\/[0-9a-f-]{36}$/);
  });
});

/** Samples this process's RSS every 20 ms while `f` runs; returns the peak above the RSS at the start. */
async function peakGrowth<T>(f: () => Promise<T>): Promise<{ value: T; grewMiB: number }> {
  const start = Deno.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 20);
  try {
    const value = await f();
    return { value, grewMiB: (Math.max(peak, Deno.memoryUsage().rss) - start) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** A body of `total` bytes made piece by piece, so the client never holds it either. */
export function generatedBody(total: number, piece = 1024 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(piece, total - sent);
      c.enqueue(new Uint8Array(n).fill(sent / piece & 0xff));
      sent += n;
    },
  });
}

/** HYPERDENO_HTTP_STREAM_MIB=1024 streams a gibibyte; a body held in memory shows at 256 MiB already. */
const STREAM_MIB = Number(Deno.env.get("HYPERDENO_HTTP_STREAM_MIB") ?? 256);

Deno.test(`http: a ${STREAM_MIB} MiB upload and download stream through a bound path without being held in memory`, async () => {
  await withApp(async (_n, base) => {
    const size = STREAM_MIB * 2 ** 20;
    const up = await peakGrowth(async () => {
      const r = await fetch(`${base}/${APP}/store`, { method: "POST", body: generatedBody(size) });
      return await r.json();
    });
    assertEquals(up.value.size, size);
    // Streaming cost 20-100 MiB, alike for 256 MiB and 1 GiB; a body held whole would be all of it on top.
    assert(up.grewMiB < 180, `RSS grew by ${up.grewMiB.toFixed(0)} MiB during a ${STREAM_MIB} MiB upload`);
    const down = await peakGrowth(async () => {
      const r = await fetch(`${base}/${APP}/stored`);
      assertEquals(r.headers.get("content-length"), String(size));
      let got = 0;
      for await (const chunk of r.body!) got += chunk.length;
      return got;
    });
    assertEquals(down.value, size);
    assert(down.grewMiB < 180, `RSS grew by ${down.grewMiB.toFixed(0)} MiB during a ${STREAM_MIB} MiB download`);
    console.log(
      `${STREAM_MIB} MiB upload: RSS +${up.grewMiB.toFixed(0)} MiB; download: +${down.grewMiB.toFixed(0)} MiB`,
    );
  });
});

Deno.test("http: a process binds, unbinds and pushes only its own; SecureBind answers only on its subdomain", async () => {
  await withApp(async (n, base) => {
    const act = (action: unknown, blob?: string) => injectJson<Record<string, unknown>>(n, RIVAL, { action, blob });
    // Paths are taken under the sender's own id: a climb is refused, an Unbind touches only its own.
    assertMatch(JSON.stringify(await act({ Unbind: { path: `/../${APP}/public` } })), /PathBindError/);
    assertEquals(await act({ Unbind: { path: "/public" } }), { Ok: null });
    assert(n.http.bindings.has(`/${APP}/public`), "web's binding is untouched");
    // Someone else's channel cannot be pushed to or closed.
    const ws = new WebSocket(`${base.replace("http", "ws")}/${APP}/open-ws`);
    await new Promise((r) => ws.onopen = r);
    await waitFor("the channel", () => n.http.channels.size === 1);
    const [{ id }] = n.http.channels.list();
    const push = await act({ WebSocketPush: { channel_id: id, message_type: "Text" } }, "spoof");
    assertMatch(JSON.stringify(push), /WebSocketPushError/);
    assertMatch(JSON.stringify(await act({ WebSocketClose: id })), /WebSocketPushError/);
    assertEquals(n.http.channels.size, 1);
    ws.close();
    // Malformed actions get the book's errors.
    assertEquals(await act({ Bind: { path: "/c", authenticated: false, local_only: false, cache: true } }), {
      Err: "NoBlob",
    });
    assertMatch(JSON.stringify(await act({ Bind: { path: "/c" } })), /BadRequest/);
    assertMatch(JSON.stringify(await act({ Nope: 1 })), /unknown HttpServerAction/);
    // SecureBind: only on rival's own origin, and only with the cookie that origin got through the hand-off.
    assertEquals(await act({ SecureBind: { path: "/secret", cache: false } }), { Ok: null });
    const cookie = await logIn(base);
    const main = await fetch(`${base}/${RIVAL}/secret`, { headers: { cookie } });
    assertEquals(main.status, 403);
    const sub = `${appLabel(RIVAL)}.localhost:${n.port}`;
    assertMatch((await main.json()).error, new RegExp(`served only on http://${sub.replaceAll(".", "\\.")}`));
    const get = (c: string) =>
      raw(n.port, `GET /${RIVAL}/secret HTTP/1.1\r\nHost: ${sub}\r\nCookie: ${c}\r\nConnection: close\r\n\r\n`);
    assertEquals((await get(cookie)).status, 401, "the node's cookie does not open an app's origin");
    const subCookie = await appSession(base, cookie, RIVAL, `/${RIVAL}/secret`);
    const ok = await get(subCookie);
    assertEquals(ok.status, 200);
    assertMatch(ok.text, /secret of \/rival:http-app:test\.os\/secret/);
    // The app's cookie opens nothing of the node's, nor another app's origin.
    const home = await fetch(`${base}/`, { headers: { cookie: subCookie }, redirect: "manual" });
    assertEquals([home.status, home.headers.get("location")], [302, "/login?redirect=%2F"]);
    await home.body?.cancel();
    const webSub = `${appLabel(APP)}.localhost:${n.port}`;
    const echo = await raw(
      n.port,
      `POST /${APP}/api/echo HTTP/1.1\r\nHost: ${webSub}\r\nCookie: ${subCookie}\r\nContent-Length: 0\r\n` +
        `Connection: close\r\n\r\n`,
    );
    assertEquals(echo.status, 401, "rival's cookie does not open web's origin");
    // An ordinary binding is not served on an app's subdomain.
    const other = await raw(n.port, `GET /${APP}/public HTTP/1.1\r\nHost: ${sub}\r\nConnection: close\r\n\r\n`);
    assertEquals(other.status, 403);
  });
});

Deno.test("http: an extension WebSocket speaks MessagePack WebSocketExtPushData both ways", async () => {
  await withApp(async (n, base) => {
    const act = (action: unknown) => injectJson<Record<string, unknown>>(n, RIVAL, { action });
    assertEquals(await act({ WebSocketBind: { path: "/ext", authenticated: false, extension: true } }), { Ok: null });
    const ws = new WebSocket(`${base.replace("http", "ws")}/${RIVAL}/ext`);
    ws.binaryType = "arraybuffer";
    const got: unknown[] = [];
    ws.onmessage = (e) => got.push(decode(new Uint8Array(e.data)));
    await new Promise((r) => ws.onopen = r);
    const out = { WebSocketExtPushData: { id: 7, hyperware_message_type: "Request", blob: enc("abc") } };
    ws.send(encode(out));
    await waitFor("the extension's answer", () => got.length === 1);
    const reply = (got[0] as { WebSocketExtPushData: Record<string, unknown> }).WebSocketExtPushData;
    assertEquals(reply.hyperware_message_type, "Response");
    assertEquals(new TextDecoder().decode(reply.blob as Uint8Array), "abc!");
    assert(typeof reply.id === "number" || typeof reply.id === "bigint");
    // Garbage on an extension channel closes it with 1003.
    const closed = new Promise<number>((r) => ws.onclose = (e) => r(e.code));
    ws.send(enc("not msgpack at all"));
    assertEquals(await closed, 1003);
  });
});
