/**
 * http-client:distro:sys through a real process on a booted node, against
 * real HTTP and WebSocket servers on 127.0.0.1: requests and their errors,
 * WebSocket channels both ways, the capability, the node's own port, and
 * malformed actions.
 */
import { assert, assertEquals } from "./assert.ts";
import { inject, injectJson, type TestNode, waitFor, withNode } from "../runtime/testing.ts";
import { bootNet } from "./net_helpers.ts";
import { FIXTURES } from "./helpers.ts";
import { BIG_BYTES, closedPort, startServers, type TestServers } from "./httpc_servers.ts";
import { LIMITS } from "../runtime/limits.ts";

const CLIENT = "client:httpc-app:test.os";
const STRANGER = "stranger:httpc-app:test.os";

interface Outcome {
  ok?: unknown;
  err?: Record<string, Record<string, unknown>>;
  sendError?: string;
  other?: string;
}
interface Fetched {
  status: number;
  headers: Record<string, string>;
  body: string;
  length: number;
}

function withClient(f: (n: TestNode, s: TestServers) => Promise<void>) {
  return withNode([`${FIXTURES}httpc_app`], async (n) => {
    const s = startServers();
    try {
      await f(n, s);
    } finally {
      await s.close();
    }
  });
}

const run = (n: TestNode, cmd: string, args: unknown, timeout = 20) =>
  injectJson<Outcome>(n, CLIENT, { [cmd]: args }, timeout);

/** The variant name of an HttpClientError outcome, e.g. "BadUrl". */
const kind = (o: Outcome) => o.err ? Object.keys(o.err)[0] : `not an error: ${JSON.stringify(o)}`;

Deno.test("http-client: GET and POST carry method, headers and body both ways, over HTTP/1.1 and HTTP/2.0", () =>
  withClient(async (n, s) => {
    const get = (await run(n, "Fetch", { url: `${s.http}/echo?x=1`, headers: { "x-app": "httpc" } })).ok as Fetched;
    assertEquals(get.status, 200);
    const echoed = JSON.parse(get.body);
    assertEquals([echoed.method, echoed.headers["x-app"], echoed.body, echoed.query], ["GET", "httpc", "", "?x=1"]);
    assertEquals(get.headers["X-Reply"], "from the test server");
    assertEquals(get.headers["X-Multi-Word-Header"], "yes", "names come back Pascal-Case, as the reference node's");
    assertEquals(get.headers["Content-Type"], "application/json");

    const body = JSON.stringify({ hello: "wörld", n: [1, 2, 3] });
    const post = (await run(n, "Fetch", {
      url: `${s.http}/echo?status=201`,
      method: "POST",
      headers: { "content-type": "application/json", "x-app": "httpc" },
      body,
    })).ok as Fetched;
    assertEquals(post.status, 201);
    const got = JSON.parse(post.body);
    assertEquals([got.method, got.body, got.headers["content-type"], got.headers["x-app"]], [
      "POST",
      body,
      "application/json",
      "httpc",
    ]);

    const put = (await run(n, "Fetch", { url: `${s.http}/echo`, method: "put", body: "x" })).ok as Fetched;
    assertEquals(JSON.parse(put.body).method, "PUT");
    const h2 = (await run(n, "Fetch", { url: `${s.http}/echo`, version: "HTTP/2.0" })).ok as Fetched;
    assertEquals(JSON.parse(h2.body).headers.host, undefined, "HTTP/2 carries :authority, not Host");
    const h1 = (await run(n, "Fetch", { url: `${s.http}/echo`, version: "HTTP/1.1" })).ok as Fetched;
    assertEquals(JSON.parse(h1.body).headers.host, new URL(s.http).host);

    const redirect = (await run(n, "Fetch", { url: `${s.http}/redirect` })).ok as Fetched;
    assertEquals([redirect.status, redirect.headers["Location"]], [302, `${s.http}/echo`]);
    const missing = (await run(n, "Fetch", { url: `${s.http}/nothing` })).ok as Fetched;
    assertEquals([missing.status, missing.body], [404, "nothing here"]);
  }));

Deno.test("http-client: a timeout, a bad URL, method or version, an unreachable host and an oversize body each get their error", () =>
  withClient(async (n, s) => {
    const t0 = Date.now();
    const slow = await run(n, "Fetch", { url: `${s.http}/slow`, timeout: 1 });
    const took = Date.now() - t0;
    assertEquals(kind(slow), "RequestFailed");
    assert(String(slow.err!.RequestFailed.error).includes("no response after 900 ms"), JSON.stringify(slow));
    // No upper bound on a loaded machine: an answer from /slow (after 5 s) would be Ok, not this error.
    assert(took >= 800, `gave up after ${took} ms`);

    for (const url of ["not a url", "ftp://127.0.0.1/x", "ws://127.0.0.1/x"]) {
      assertEquals((await run(n, "Fetch", { url })).err, { BadUrl: { url } });
    }
    for (const method of ["GE T", "CONNECT", ""]) {
      assertEquals((await run(n, "Fetch", { url: `${s.http}/echo`, method })).err, { BadMethod: { method } });
    }
    for (const version of ["HTTP/9", "HTTP/1.0", "HTTP/3.0"]) {
      assertEquals((await run(n, "Fetch", { url: `${s.http}/echo`, version })).err, { BadVersion: { version } });
    }

    const unreachable = await run(n, "Fetch", { url: `http://127.0.0.1:${closedPort()}/`, timeout: 5 });
    assertEquals(kind(unreachable), "RequestFailed");
    assert(/refused/i.test(String(unreachable.err!.RequestFailed.error)), JSON.stringify(unreachable));
    const getWithBody = await run(n, "Fetch", { url: `${s.http}/echo`, body: "a GET has no body" });
    assertEquals(kind(getWithBody), "RequestFailed");

    const big = await run(n, "Fetch", { url: `${s.http}/big`, timeout: 20 });
    assertEquals(kind(big), "RequestFailed");
    assert(
      String(big.err!.RequestFailed.error).includes(`passed ${LIMITS.httpResponseBytes} bytes`),
      JSON.stringify(big),
    );
    assert(BIG_BYTES > LIMITS.httpResponseBytes);
    const liar = await run(n, "Fetch", { url: `${s.liar}/`, timeout: 5 });
    assertEquals(kind(liar), "RequestFailed");
    assert(String(liar.err!.RequestFailed.error).includes("Content-Length is 1000000000 bytes"), JSON.stringify(liar));

    // One process may have so many requests in flight; the rest are refused at once, not queued.
    const burst = await run(n, "Burst", { url: `${s.http}/hold`, n: LIMITS.httpRequestsInFlight + 6 }, 30) as Record<
      string,
      number
    >;
    assertEquals(burst.ok, LIMITS.httpRequestsInFlight, JSON.stringify(burst));
    const refusedKey = Object.keys(burst).find((k) => k.includes("in flight"));
    assertEquals(refusedKey && burst[refusedKey], 6, JSON.stringify(burst));

    // After all that, it still serves.
    assertEquals(((await run(n, "Fetch", { url: `${s.http}/echo` })).ok as Fetched).status, 200);
  }));

Deno.test("http-client: WebSocket channels carry pushes both ways and close from either side or with the process", () =>
  withClient(async (n, s) => {
    const events = async () => (await injectJson<unknown[]>(n, CLIENT, { Events: null }));
    const until = async (what: string, pred: (e: unknown[]) => boolean) => {
      let last: unknown[] = [];
      await waitFor(what, async () => pred(last = await events()), 5000).catch((e) => {
        throw new Error(`${e.message}; events: ${JSON.stringify(last)}; log: ${n.lines.join("\n")}`);
      });
    };
    const has = (x: unknown) => (e: unknown[]) => e.some((y) => JSON.stringify(y) === JSON.stringify(x));

    assertEquals(await run(n, "WsOpen", { url: `${s.ws}/ws`, headers: { "x-token": "t1" }, channel: 1 }), { ok: null });
    assertEquals(s.sockets[0].token, "t1", "the open request's headers reach the server");
    await until(
      "the server's greeting",
      has({ push: { channel: 1, type: "Text", data: "hello t1", mime: "text/plain" } }),
    );

    await run(n, "WsPush", { channel: 1, text: "from the process" });
    await until(
      "the echo",
      has({ push: { channel: 1, type: "Text", data: "echo: from the process", mime: "text/plain" } }),
    );
    assertEquals((await run(n, "WsPush", { channel: 1, type: "Binary", bytes: [0, 1, 254], await: true })).ok, null);
    await until(
      "the binary echo",
      has({ push: { channel: 1, type: "Binary", data: [255, 254, 1], mime: "application/octet-stream" } }),
    );
    assertEquals(s.received.slice(0, 2), ["from the process", [0, 1, 254]]);

    // Closed by the server: the process hears WebSocketClose, and the channel is gone.
    await run(n, "WsPush", { channel: 1, text: "close me" });
    await until("the server's close", has({ close: 1 }));
    assertEquals(kind(await run(n, "WsPush", { channel: 1, text: "anyone?", await: true })), "WsPushFailed");

    // Closed by the process: acknowledged, the server sees it, nothing more arrives.
    assertEquals(await run(n, "WsOpen", { url: `${s.ws}/ws`, headers: { "x-token": "t2" }, channel: 2 }), { ok: null });
    assertEquals(await run(n, "WsClose", { channel: 2 }), { ok: null });
    await waitFor("the server to see channel 2 closed", () => s.sockets[1].closed, 5000);
    assert(
      !(await events()).some((e) => JSON.stringify(e) === '{"close":2}'),
      "a close the process asked for is not reported",
    );
    assertEquals((await run(n, "WsClose", { channel: 2 })).err, { WsCloseFailed: { channel_id: 2 } });

    // Opening an id again replaces that channel: the old connection closes, and that is no news to the process.
    const before = s.sockets.length;
    assertEquals(await run(n, "WsOpen", { url: `${s.ws}/ws`, headers: { "x-token": "old" }, channel: 2 }), {
      ok: null,
    });
    assertEquals(await run(n, "WsOpen", { url: `${s.ws}/ws`, headers: { "x-token": "new" }, channel: 2 }), {
      ok: null,
    });
    await waitFor("the replaced connection to close", () => s.sockets[before].closed, 5000);
    assert(!s.sockets[before + 1].closed);
    assertEquals(await run(n, "WsClose", { channel: 2 }), { ok: null });
    assert(!(await events()).some((e) => JSON.stringify(e) === '{"close":2}'));

    // The book's errors for pushes that cannot go.
    assertEquals(await run(n, "WsOpen", { url: `${s.ws}/ws`, channel: 3 }), { ok: null });
    const noBlob = await run(n, "WsPush", { channel: 3, text: "", await: true });
    assert(String(noBlob.err?.WsPushFailed.req).includes("no"), JSON.stringify(noBlob));
    const badText = await run(n, "WsPush", { channel: 3, bytes: [0xff, 0xfe], await: true });
    assert(String(badText.err?.WsPushFailed.req).includes("UTF-8"), JSON.stringify(badText));
    assertEquals(kind(await run(n, "WsPush", { channel: 3, type: "Ping", text: "x", await: true })), "WsPushFailed");
    assertEquals(kind(await run(n, "WsPush", { channel: 99, text: "x", await: true })), "WsPushFailed");

    // A server that stops reading: pushes are refused once 16 MiB wait, instead of piling up in the node.
    assertEquals(await run(n, "WsOpen", { url: `${s.mute}/`, channel: 5 }), { ok: null });
    const flood = await run(n, "WsFlood", { channel: 5, max: 64 }) as { sent: number; refused: Outcome | null };
    assert(flood.sent >= 16 && flood.sent <= 32, JSON.stringify(flood));
    assert(String(flood.refused?.err?.WsPushFailed.req).includes("has not read"), JSON.stringify(flood));
    assertEquals(await run(n, "WsClose", { channel: 5 }), { ok: null });

    // Opening fails: nobody listening, a path that is not a WebSocket, a URL that is not ws.
    const nobody = `ws://127.0.0.1:${closedPort()}/`;
    assertEquals((await run(n, "WsOpen", { url: nobody, channel: 4 })).err, { WsOpenFailed: { url: nobody } });
    const notWs = `${s.ws}/echo`;
    assertEquals((await run(n, "WsOpen", { url: notWs, channel: 4 })).err, { WsOpenFailed: { url: notWs } });
    assertEquals((await run(n, "WsOpen", { url: `${s.http}/ws`, channel: 4 })).err, {
      BadUrl: { url: `${s.http}/ws` },
    });
    const fragment = `${s.ws}/ws#part`;
    assertEquals((await run(n, "WsOpen", { url: fragment, channel: 4 })).err, { BadUrl: { url: fragment } });

    // A process holds so many channels; the next is refused.
    for (let c = 100; c < 100 + LIMITS.wsClientChannels - 1; c++) {
      assertEquals(await run(n, "WsOpen", { url: `${s.ws}/ws`, channel: c }), { ok: null });
    }
    const over = await run(n, "WsOpen", { url: `${s.ws}/ws`, channel: 999 });
    assertEquals(over.err, { WsOpenFailed: { url: `${s.ws}/ws` } });
    assert(n.lines.some((l) => l.includes("the most a process may")), "the log says why");

    // The process exits: every channel it held closes, and its request in flight is dropped.
    await inject(n, CLIENT, { Fetch: { url: `${s.staller}/`, timeout: 60 } }, { timeout: null });
    await waitFor("the request to reach the server that never answers", () => s.stalled() === 1, 5000);
    const open = () => s.sockets.filter((x) => !x.closed).length;
    assertEquals(open(), LIMITS.wsClientChannels);
    await run(n, "Exit", null);
    await waitFor("the exited process's channels to close", () => open() === 0, 5000);
    await waitFor("its request in flight to be dropped", () => s.stalled() === 0, 5000);
  }));

Deno.test("http-client: a process without its capability is refused, and nobody may call the node's own HTTP port", () =>
  withClient(async (n, s) => {
    const refused = await injectJson<Outcome>(n, STRANGER, { url: `${s.http}/echo` });
    assertEquals(refused, { sendError: "Offline" });
    assert(
      n.lines.some((l) => l.includes(`${STRANGER} may not message http-client:distro:sys`)),
      "the log names what to add",
    );

    // Even a process that may reach local addresses (CLIENT holds local-network).
    for (const host of ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0", "127.1", "[::1]"]) {
      const url = `http://${host}:${n.port}/rpc:distro:sys/message`;
      const r = await run(n, "Fetch", { url, method: "POST", body: "{}" });
      assertEquals(kind(r), "AddressRefused", url);
      assert(String(r.err!.AddressRefused.reason).includes("this node's own port"), JSON.stringify(r));
    }
    const ws = `ws://127.0.0.1:${n.port}/`;
    assertEquals(kind(await run(n, "WsOpen", { url: ws, channel: 1 })), "AddressRefused");
    assert(n.lines.some((l) => l.includes("this node's own port")));
  }));

Deno.test("http-client: malformed actions are answered BadRequest and the node keeps serving", () =>
  withClient(async (n, s) => {
    const url = `${s.http}/echo`;
    const bodies: unknown[] = [
      "not json at all",
      "null",
      "[]",
      '"Http"',
      '{"Nope": {}}',
      '{"Http": "GET"}',
      JSON.stringify({ Http: { method: 5, url, headers: {} } }),
      JSON.stringify({ Http: { method: "GET", url: [url], headers: {} } }),
      JSON.stringify({ Http: { method: "GET", url } }),
      JSON.stringify({ Http: { method: "GET", url, headers: { "x-a": 1 } } }),
      JSON.stringify({ Http: { method: "GET", url, headers: { "bad name": "v" } } }),
      JSON.stringify({ Http: { method: "GET", url, headers: { "x-a": "line\r\nbreak" } } }),
      JSON.stringify({ Http: { method: "GET", url, version: 2, headers: {} } }),
      JSON.stringify({ WebSocketOpen: { url: `${s.ws}/ws`, headers: {}, channel_id: -1 } }),
      JSON.stringify({ WebSocketOpen: { url: `${s.ws}/ws`, headers: {}, channel_id: 2 ** 32 } }),
      JSON.stringify({ WebSocketPush: { channel_id: 1, message_type: "Shout" } }),
      JSON.stringify({ WebSocketClose: { channel_id: "1" } }),
      "x".repeat(100_000),
    ];
    for (const body of bodies) {
      const r = await run(n, "Raw", { body });
      const answer = JSON.parse(r.ok as string);
      assertEquals(Object.keys(answer.Err ?? {}), ["BadRequest"], `${String(body).slice(0, 80)} → ${r.ok}`);
      assert(answer.Err.BadRequest.req.length < 400, "a refusal quotes only the start of what was sent");
    }
    const junk = await run(n, "Raw", { bytes: [0xff, 0x00, 0xc3, 0x28, 0x7b] });
    assertEquals(Object.keys(JSON.parse(junk.ok as string).Err), ["BadRequest"]);

    // An Http action sent by hand, body in the blob, answered in the book's shape.
    const byHand = await run(n, "Raw", {
      body: JSON.stringify({ Http: { method: "POST", version: null, url, headers: { "x-hand": "1" } } }),
      blob: "hand-made",
    });
    const answer = JSON.parse(byHand.ok as string);
    assertEquals(answer.Ok.Http.status, 200);
    assertEquals(Object.keys(answer), ["Ok"]);
    assertEquals(((await run(n, "Fetch", { url, method: "POST", body: "still here" })).ok as Fetched).status, 200);
  }));

Deno.test("http-client: another node's requests to it get no answer and fetch nothing", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} }, { install: ["remote_attacker"] });
  const s = startServers();
  try {
    const [a, b] = [net.nodes["a.dev"], net.nodes["b.dev"]];
    const attacker = "attacker:remote-attacker:test.os";
    const action = { Http: { method: "GET", version: null, url: `${s.http}/echo?from=remote`, headers: {} } };
    const send = { target: "a.dev@http-client:distro:sys", body: JSON.stringify(action), withBlob: false, timeout: 2 };
    const r = await inject(b, attacker, { Send: send });
    assertEquals(JSON.parse(r.body!), { err: "Timeout" });
    assert(a.lines.some((l) => l.includes(`refused a request from b.dev@${attacker} to http-client:distro:sys`)));
    assertEquals(s.hits, [], "the remote request reached the server");
  } finally {
    await s.close();
    await net.close();
  }
});
