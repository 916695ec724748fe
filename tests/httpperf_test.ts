/**
 * Bound paths answered straight off the connection (modules/http_server/
 * bound.ts): the URL a process sees is the one the WHATWG parser makes, a
 * process's headers cannot split the response, and what goes on the wire
 * (HEAD, 204, pipelined requests, keep-alive) is still HTTP/1.1.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNode, install, removeHome, type TestNode } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { raw } from "./http_helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import { targetOf } from "../modules/http_server/target.ts";
import { answerHeaders } from "../modules/http_server/forward.ts";
import type { RequestHead } from "../runtime/sockets/http1.ts";

const APP = "answer:httpperf-app:test.os";
const PEER: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 5000 };

function head(target: string, host: string | null): RequestHead {
  const headers = new Headers();
  if (host !== null) headers.set("host", host);
  return { method: "GET", target, headers, version: "1.1" };
}

Deno.test("httpperf: targetOf gives what new URL gives, parsed or not", () => {
  const targets = [
    "/",
    "/a:b:c/api/items/42?q=1&r=two",
    "/a/b/../c",
    "/a/./b",
    "/a/%2e%2E/b",
    "/a/.%2e",
    "/a/b.js",
    "/a%20b/%zz",
    "/a?x='y'&z=\"w\"",
    "/a?<b>",
    "/a?",
    "/a//b?c=d/e?f",
    "/a\\b",
    "/ä",
    "/a?é=1",
    "http://example.com:8080/x?y",
  ];
  const hosts = [
    null,
    "localhost:8080",
    "LOCALHOST:8080",
    "127.1",
    "127.0.0.1:80",
    "app-x.localhost:9000",
    "[::1]:8080",
  ];
  for (const t of targets) {
    for (const h of hosts) {
      const got = targetOf(head(t, h), PEER);
      const u = /^https?:/.test(t) ? new URL(t) : new URL(`http://${h ?? PEER.hostname}${t}`);
      assertEquals(
        got,
        { href: u.href, pathname: u.pathname, search: u.search, hostname: u.hostname, host: u.host },
        `${h} ${t}`,
      );
    }
  }
  for (const [t, h] of [["/x", "a b"], ["/x", "evil@host"], ["x", "localhost"], ["/x", "a:b:c"]]) {
    let status = 0;
    try {
      targetOf(head(t, h), PEER);
    } catch (e) {
      status = (e as { status: number }).status;
    }
    assertEquals(status, 400, `${h} ${t}`);
  }
});

Deno.test("httpperf: a process's headers are taken as the Headers class would, or refused", () => {
  assertEquals(answerHeaders({ "Content-Type": "text/plain", "X-A": " 1 ", "x-a": "2" }), {
    "content-type": "text/plain",
    "x-a": "1, 2",
  });
  assertEquals(answerHeaders({ "Set-Cookie": "a=1", "set-cookie": "b=2" }), { "set-cookie": ["a=1", "b=2"] });
  assertEquals(answerHeaders({ "Content-Length": "9", "Transfer-Encoding": "chunked", Connection: "close" }), {});
  assertEquals(answerHeaders({ "x-ok": "a\r\nx-evil: 1" }), "x-ok");
  assertEquals(answerHeaders({ "x-nul": "a\0b" }), "x-nul");
  assertEquals(answerHeaders({ "bad name": "v" }), "bad name");
  assertEquals(answerHeaders({ "x-wide": "\u0100" }), "x-wide");
  assertEquals(answerHeaders({ "x-latin1": "caf\u00e9" }), { "x-latin1": "caf\u00e9" });
});

async function withAnswerApp(f: (n: TestNode, base: string) => Promise<void>) {
  const n = await bootNode();
  try {
    await install(n, `${FIXTURES}httpperf_app`);
    const base = `http://127.0.0.1:${n.port}`;
    for (let i = 0; i < 100 && !n.http.bindings.has(`/${APP}/answer`); i++) await new Promise((r) => setTimeout(r, 50));
    await f(n, base);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
}

const q = (headers: Record<string, string>, status = 200) =>
  `/${APP}/answer?status=${status}&headers=${encodeURIComponent(JSON.stringify(headers))}`;

Deno.test("httpperf: answers written straight to the connection stay HTTP/1.1, and no header splits them", async () => {
  await withAnswerApp(async (n, base) => {
    // What the process sees: the URL as the parser makes it, the request's headers.
    const r = await fetch(`${base}/x/../${APP}/answer?a='b'&c=d`, { headers: { "x-hello": "there" } });
    assertEquals(r.status, 200);
    const seen = await r.json();
    assertEquals(seen.url, new URL(`${base}/x/../${APP}/answer?a='b'&c=d`).href);
    assertEquals(seen.query_params, { a: "'b'", c: "d" });
    assertEquals(seen.headers["x-hello"], "there");

    // Case variants join, Set-Cookie lines stay apart, framing headers are the server's.
    const h = await fetch(
      base + q({ "X-A": "1", "x-a": "2", "Set-Cookie": "a=1", "set-cookie": "b=2", "content-length": "1" }),
    );
    assertEquals(h.headers.get("x-a"), "1, 2");
    // On the node's host an app sets no cookie (it could replace the owner's session there): none pass.
    assertEquals(h.headers.getSetCookie(), []);
    assertEquals(Number(h.headers.get("content-length")), (await h.arrayBuffer()).byteLength);
    // On the app's own origin its Set-Cookie lines pass, each on a line of its own.
    const appHost = `${appLabel(APP)}.localhost:${n.port}`;
    const onApp = await raw(
      n.port,
      `GET ${
        q({ "Set-Cookie": "a=1", "set-cookie": "b=2" })
      } HTTP/1.1\r\nHost: ${appHost}\r\nConnection: close\r\n\r\n`,
    );
    assertEquals(onApp.status, 200, onApp.text);
    assertEquals(onApp.text.split("\r\n").filter((l) => /^set-cookie:/i.test(l)).map((l) => l.slice(12).trim()), [
      "a=1",
      "b=2",
    ]);

    // A value with CR LF would start a header of its own: 502, and nothing of it on the wire.
    const split = await raw(
      n.port,
      `GET ${q({ "x-ok": "a\r\nx-evil: 1" })} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    assertEquals(split.status, 502);
    assertMatch(split.text, /malformed header/);
    assert(!/\r\nx-evil/i.test(split.text), split.text);

    // HEAD: the length of the body it would get, and no body.
    const headRes = await raw(n.port, `HEAD ${q({})} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    assertEquals(headRes.status, 200);
    const [headPart, bodyPart] = headRes.text.split("\r\n\r\n");
    assert(Number(/content-length: (\d+)/.exec(headPart)![1]) > 0);
    assertEquals(bodyPart, "");

    // 204: neither a length nor a body.
    const none = await raw(n.port, `GET ${q({}, 204)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    assertEquals(none.status, 204);
    assert(!/content-length/i.test(none.text), none.text);
    assert(none.text.endsWith("\r\n\r\n"), none.text);

    // Two requests in one write: two answers, in order, on one connection.
    const two = await raw(
      n.port,
      `GET ${q({ "x-n": "1" })} HTTP/1.1\r\nHost: localhost\r\n\r\n` +
        `GET ${q({ "x-n": "2" })} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    assertEquals([...two.text.matchAll(/x-n: (\d)/g)].map((m) => m[1]), ["1", "2"]);
    assertMatch(two.text, /connection: keep-alive[\s\S]*connection: close/);

    // A kept-alive client is served request after request.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: n.port });
    const buf = new Uint8Array(65536);
    for (let i = 0; i < 200; i++) {
      await conn.write(new TextEncoder().encode(`GET ${q({})} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
      let text = "";
      while (!/\r\n\r\n/.test(text) || text.length < text.indexOf("\r\n\r\n") + 4 + lengthOf(text)) {
        const got = await conn.read(buf);
        assert(got !== null, `the connection closed after ${i} requests`);
        text += new TextDecoder().decode(buf.subarray(0, got));
      }
      assertMatch(text, /^HTTP\/1\.1 200 OK\r\n/);
    }
    conn.close();
  });
});

function lengthOf(text: string): number {
  return Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
}
