/**
 * Bad input to the node's HTTP port, sent the way an attacker would (raw
 * sockets, hand-made WebSocket frames): each gets a proper status or close,
 * and the node goes on serving.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { type TestNode, waitFor } from "../runtime/testing.ts";
import { APP, appSession, logIn as logInAt, raw, withApp } from "./http_helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import { HTTP_LIMITS } from "../modules/http_server/mod.ts";
import { copyUi } from "../runtime/packages/build.ts";

const enc = (s: string) => new TextEncoder().encode(s);

async function stillServes(n: TestNode) {
  assertEquals(await (await fetch(`http://127.0.0.1:${n.port}/our`)).text(), "fake.dev");
}

Deno.test("http attack: malformed requests, oversized heads and bodies get 400/431/413/501, and the node serves on", async () => {
  await withApp(async (n) => {
    const p = n.port;
    assertEquals((await raw(p, "HELLO\r\n\r\n")).status, 400);
    assertEquals((await raw(p, "GET / HTTP/9.9\r\nHost: x\r\n\r\n")).status, 400);
    assertEquals((await raw(p, "GET / HTTP/1.1\r\n Bad: folded\r\n\r\n")).status, 400);
    assertEquals((await raw(p, "GET nohost HTTP/1.1\r\nHost: localhost\r\n\r\n")).status, 400);
    assertEquals((await raw(p, `GET / HTTP/1.1\r\nHost: localhost\r\nX: ${"a".repeat(20_000)}\r\n\r\n`)).status, 431);
    const both =
      `POST /${APP}/public HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`;
    assertEquals((await raw(p, both)).status, 400);
    const gzip = `POST /${APP}/public HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n`;
    assertEquals((await raw(p, gzip)).status, 501);
    const huge = await raw(
      p,
      `POST /${APP}/public HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${2 ** 40}\r\n\r\nabc`,
    );
    assertEquals(huge.status, 413);
    const badChunk =
      `POST /${APP}/public HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`;
    assertEquals((await raw(p, badChunk)).status, 400);
    // A body shorter than its Content-Length, then silence: the request never reaches the process.
    const short = await raw(
      p,
      `POST /${APP}/public HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc`,
      500,
    );
    assertEquals(short.text, "");
    await stillServes(n);
  });
});

Deno.test("http attack: path traversal in URLs reaches nothing but bindings; serveUi copies no symlink", async () => {
  await withApp(async (n) => {
    for (
      const target of [
        `/${APP}/../../../../etc/passwd`,
        `/${APP}/%2e%2e/%2e%2e/etc/passwd`,
        `/${APP}/..%2f..%2fpkg%2fmanifest.json`,
        `/${APP}/assets/..%5c..%5cmanifest.json`,
        `/${APP}/manifest.json`,
        `/${APP}/web.js`,
      ]
    ) {
      const r = await raw(n.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      assert(r.status === 404 || r.status === 401, `${target} answered ${r.status}`);
      assert(!r.text.includes("root:") && !r.text.includes("process_name"), `${target} leaked a file`);
    }
    // The UI's own files are there, with their types.
    const cookie = await logInAt(`http://127.0.0.1:${n.port}`);
    const js = await fetch(`http://127.0.0.1:${n.port}/${APP}/assets/app.js`, { headers: { cookie } });
    assertEquals([js.status, js.headers.get("content-type")], [200, "text/javascript; charset=utf-8"]);
    await js.body?.cancel();
    // A symlink in ui/ would carry a file of the builder's machine into the package: build skips it.
    const dir = await Deno.makeTempDir();
    try {
      await Deno.mkdir(`${dir}/ui`);
      await Deno.writeTextFile(`${dir}/ui/index.html`, "<p>hi</p>");
      await Deno.symlink("/etc/passwd", `${dir}/ui/passwd`);
      copyUi(dir);
      assertEquals([...Deno.readDirSync(`${dir}/pkg/ui`)].map((e) => e.name), ["index.html"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    await stillServes(n);
  });
});

/** A masked client frame. */
function frame(opcode: number, payload: Uint8Array, opts: { mask?: boolean; rsv?: boolean; fin?: boolean } = {}) {
  const mask = opts.mask ?? true;
  const head = [(opts.fin ?? true ? 0x80 : 0) | (opts.rsv ? 0x40 : 0) | opcode];
  if (payload.length < 126) head.push((mask ? 0x80 : 0) | payload.length);
  else head.push((mask ? 0x80 : 0) | 126, payload.length >> 8, payload.length & 0xff);
  const key = [1, 2, 3, 4];
  const body = mask ? payload.map((b, i) => b ^ key[i & 3]) : payload;
  return new Uint8Array([...head, ...(mask ? key : []), ...body]);
}

/** A raw WebSocket to a public path: the connection after the 101. */
async function rawWs(port: number, path: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(enc(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const buf = new Uint8Array(1024);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed during the handshake");
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  assertMatch(head, /^HTTP\/1\.1 101/);
  return conn;
}

/** The close code the node sends (0 if it just hangs up), reading past data frames. */
async function closeCode(conn: Deno.Conn): Promise<number> {
  const bytes: number[] = [];
  const buf = new Uint8Array(65536);
  const timer = setTimeout(() => conn.close(), 5000);
  try {
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      bytes.push(...buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
  for (let i = 0; i + 1 < bytes.length;) {
    let len = bytes[i + 1] & 0x7f, at = i + 2;
    if (len === 126) [len, at] = [(bytes[i + 2] << 8) | bytes[i + 3], i + 4];
    if ((bytes[i] & 0x0f) === 0x8) return (bytes[at] << 8) | bytes[at + 1];
    i = at + len;
  }
  return 0;
}

Deno.test("http attack: WebSocket garbage closes with 1002/1007/1009 and the process hears the close", async () => {
  await withApp(async (n) => {
    const cases: [Uint8Array, number][] = [
      [frame(0x2, enc("x"), { mask: false }), 1002],
      [frame(0x2, enc("x"), { rsv: true }), 1002],
      [frame(0x3, enc("x")), 1002],
      [frame(0x1, new Uint8Array([0xff, 0xfe])), 1007],
      [frame(0x0, enc("x")), 1002],
      [new Uint8Array([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0]), 1009], // a 4 GiB frame announced
    ];
    for (const [bytes, code] of cases) {
      const conn = await rawWs(n.port, `/${APP}/open-ws`);
      await conn.write(bytes);
      assertEquals(await closeCode(conn), code);
    }
    await waitFor("every channel closed", () => n.http.channels.size === 0);
    await stillServes(n);
  });
});

Deno.test("http attack: a WebSocket client that never reads is closed once 8 MiB wait for it", async () => {
  await withApp(async (n) => {
    const conn = await rawWs(n.port, `/${APP}/open-ws`); // never read from here on
    await waitFor("the channel", () => n.http.channels.size === 1);
    const rss0 = Deno.memoryUsage().rss;
    const r = await fetch(`http://127.0.0.1:${n.port}/${APP}/flood?n=1000`); // 64 MiB of pushes
    assertEquals((await r.json()).channels, 1);
    await waitFor("the reader-less channel closed", () => n.http.channels.size === 0);
    const grew = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
    assert(grew < 150, `RSS grew by ${grew.toFixed(0)} MiB`);
    conn.close();
    await stillServes(n);
  });
});

Deno.test("http attack: slowloris connections are evicted for honest clients and closed at the deadline", async () => {
  const before = HTTP_LIMITS.pendingTimeoutMs;
  HTTP_LIMITS.pendingTimeoutMs = 1500;
  const slow: Deno.TcpConn[] = [];
  try {
    await withApp(async (n) => {
      for (let i = 0; i < 120; i++) {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: n.port });
        await c.write(enc("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        slow.push(c);
      }
      const trickle = setInterval(() => slow.forEach((c) => c.write(enc("X-a: b\r\n")).catch(() => {})), 200);
      try {
        for (let i = 0; i < 5; i++) await stillServes(n);
        const t0 = Date.now();
        await waitFor("the slow connections closed", async () => {
          const open = await Promise.all(slow.map((c) => c.write(enc("X-b: c\r\n")).then(() => 1, () => 0)));
          return open.reduce<number>((a, b) => a + b, 0) === 0;
        }, 10_000);
        assert(Date.now() - t0 < 8000);
      } finally {
        clearInterval(trickle);
      }
      await stillServes(n);
    });
  } finally {
    HTTP_LIMITS.pendingTimeoutMs = before;
    for (const c of slow) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
});

Deno.test("http: the owner's slow upload to an authenticated path outlasts a stranger's deadline; a public path keeps it", async () => {
  const before = HTTP_LIMITS.pendingTimeoutMs;
  HTTP_LIMITS.pendingTimeoutMs = 1500;
  try {
    await withApp(async (n, base) => {
      const cookie = await appSession(base, await logInAt(base), APP, `/${APP}/api/echo`);
      const host = `${appLabel(APP)}.localhost:${n.port}`;
      /** Sends a head then its 30-byte body a byte every 150 ms (4.5 s: three deadlines); what came back. */
      const trickle = async (path: string, extra: string) => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: n.port });
        const head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Content-Type: text/plain\r\n` +
          "Content-Length: 30\r\nConnection: close\r\n\r\n";
        await conn.write(enc(head));
        let cut = false;
        for (let i = 0; i < 30 && !cut; i++) {
          await new Promise((r) => setTimeout(r, 150));
          await conn.write(enc("x")).catch(() => cut = true);
        }
        const chunks: number[] = [];
        const buf = new Uint8Array(65536);
        const timer = setTimeout(() => conn.close(), 60_000);
        for (let got; (got = await conn.read(buf).catch(() => null)) !== null;) chunks.push(...buf.subarray(0, got));
        clearTimeout(timer);
        try {
          conn.close();
        } catch { /* closed */ }
        return new TextDecoder().decode(new Uint8Array(chunks));
      };
      const owner = await trickle(`/${APP}/api/echo`, `Cookie: ${cookie}\r\n`);
      assertMatch(owner, /^HTTP\/1\.1 200/);
      assertMatch(owner, /x{30}/);
      const stranger = await trickle(`/${APP}/public`, "");
      assert(!/^HTTP\/1\.1 200/.test(stranger), `a public path's slow request was served: ${stranger.slice(0, 80)}`);
      await stillServes(n);
    });
  } finally {
    HTTP_LIMITS.pendingTimeoutMs = before;
  }
});
