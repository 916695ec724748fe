/**
 * Attacks on the node's listeners (HTTP, TCP, WebSocket), made from outside
 * the way an attacker would: raw sockets, WebSocket clients, and requests
 * with the headers a browser puts on a cross-site POST.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, freePort, NodeProcess } from "./cli_helpers.ts";
import {
  bootNode,
  inject,
  injectJson,
  registerOnChain,
  removeHome,
  type TestNode,
  waitFor,
} from "../runtime/testing.ts";
import { PACKAGES } from "./helpers.ts";
import { bootNet, type Net } from "./net_helpers.ts";
import { openWs } from "../modules/net/frames.ts";
import { initiate } from "../modules/net/handshake.ts";
import { HandshakeState } from "../modules/net/noise.ts";
import { HANDSHAKE_TIMEOUT_MS } from "../modules/net/mod.ts";
import { MAX_BODY } from "../modules/http_server/mod.ts";
import { encodeBase64 } from "../runtime/bytes.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { postToNode } from "../cli/node_client.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { NodeKeys } from "../runtime/keys.ts";

const NU = "netuser:netuser:test.os";
const PING = "ping:ping:template.os";
const enc = (s: string) => new TextEncoder().encode(s);

function connect(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Whether the node has closed `conn`: a read ends (or fails) within `ms`. */
async function closedByNode(conn: Deno.Conn, ms = 300): Promise<boolean> {
  const buf = new Uint8Array(4096);
  const until = Date.now() + ms;
  while (Date.now() < until) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"wait">((res) => timer = setTimeout(() => res("wait"), until - Date.now())),
    ]);
    clearTimeout(timer);
    if (r === null) return true;
    if (r === "wait") return false;
  }
  return false;
}

/** Sends raw bytes as an HTTP request and reads the answer until the node closes. */
async function rawHttp(port: number, request: string | Uint8Array): Promise<{ status: number; text: string }> {
  const conn = await connect(port);
  try {
    const bytes = typeof request === "string" ? enc(request) : request;
    let w = 0;
    while (w < bytes.length) w += await conn.write(bytes.subarray(w));
    const text = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    return { status: Number(text.split(" ")[1]), text };
  } catch (e) {
    try {
      conn.close();
    } catch { /* closed by the stream */ }
    throw e;
  }
}

/** The install request start-package makes, for the ping package. */
async function pingInstallBody(): Promise<string> {
  const { packageId } = await buildPackage(`${PACKAGES}ping`, { onlyIfStale: true });
  const files = readPkgDir(`${PACKAGES}ping/pkg`);
  return JSON.stringify({
    package_id: packageId,
    files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, encodeBase64(v)])),
  });
}

function newKeys(): NodeKeys {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** An identity on the chain that a hand-made client can speak as. */
async function rawPeer(net: Net, name: string): Promise<NodeKeys> {
  const keys = newKeys();
  await registerOnChain(net.chain, name, keys.publicKey);
  await waitFor(`${name} known to a.dev`, () => net.nodes["a.dev"].net!.hns.has(name));
  return keys;
}

/** b.dev calls a.dev's netuser process; returns how long the answer took. */
async function timedCall(net: Net): Promise<number> {
  const t0 = performance.now();
  const r = await injectJson<{ ok?: unknown }>(net.nodes["b.dev"], NU, {
    Call: { target: `a.dev@${NU}`, body: "honest" },
  });
  assert(r.ok, `b.dev could not reach a.dev: ${JSON.stringify(r)}`);
  return performance.now() - t0;
}

/** A Noise XX handshake over a WebSocket, as an honest peer would make. */
async function wsHandshake(net: Net, name: string, keys: NodeKeys) {
  const ch = await openWs(`ws://127.0.0.1:${net.nodes["a.dev"].net!.wsPort}/`, 5000);
  const link = await initiate(ch, { name, keys }, "a.dev", (n) => net.nodes["a.dev"].net!.keyOf(n), 5000);
  await waitFor(`a.dev's link to ${name}`, () => !!net.nodes["a.dev"].net!.peers.current(name));
  link.close();
}

/** Idle connections per port: the nodes share this test's process, so all of it stays inside a 1024-file limit. */
const IDLE = 200;

Deno.test("listeners: idle floods on the HTTP, TCP and WS ports are evicted; honest clients get in at once", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  const a = net.nodes["a.dev"];
  const ports = { http: a.port, tcp: a.net!.tcpPort, ws: a.net!.wsPort };
  const idle: Record<string, Deno.TcpConn[]> = { http: [], tcp: [], ws: [] };
  try {
    for (const [kind, port] of Object.entries(ports)) {
      for (let i = 0; i < IDLE; i++) idle[kind].push(await connect(port));
    }
    // Honest clients on each port, right after the flood.
    assertEquals(await (await fetch(`http://127.0.0.1:${ports.http}/our`)).text(), "a.dev");
    // Kept out, it would get in only when the idle ones time out; a busy machine makes the call itself slow.
    const took = await timedCall(net);
    assert(took < HANDSHAKE_TIMEOUT_MS, `b.dev reached a.dev over tcp in ${Math.round(took)} ms`);
    await wsHandshake(net, "wsclient.dev", await rawPeer(net, "wsclient.dev"));
    // Most idle connections were closed to make room; only a listener's pending cap of them stays open.
    for (const [kind, conns] of Object.entries(idle)) {
      const closed = (await Promise.all(conns.map((c) => closedByNode(c)))).filter((x) => x).length;
      assert(closed >= IDLE - 64, `${kind}: only ${closed} of ${IDLE} idle connections were evicted`);
    }
    assert(a.net!.refused >= 2 * (IDLE - 64), `net counted ${a.net!.refused} evictions`);
    assert(a.http.refused >= IDLE - 64, `http counted ${a.http.refused} evictions`);
    assertEquals(await injectJson(a, NU, { Call: { target: `b.dev@${NU}`, body: "x" } }).then(() => "up"), "up");
  } finally {
    for (const c of Object.values(idle).flat()) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await net.close();
  }
});

Deno.test("listeners: 80 stalled handshakes (-> e, then nothing) do not keep an honest peer out", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  const a = net.nodes["a.dev"];
  const stalled: Deno.TcpConn[] = [];
  const wsStalled: WebSocket[] = [];
  try {
    // Each sends a valid first handshake message and never the third.
    for (let i = 0; i < 80; i++) {
      const c = await connect(a.net!.tcpPort);
      const e = new HandshakeState({ initiator: true }).writeMessage(new Uint8Array());
      await c.write(Uint8Array.of(0, e.length, ...e));
      stalled.push(c);
      const ws = new WebSocket(`ws://127.0.0.1:${a.net!.wsPort}/`);
      ws.onopen = () => ws.send(new HandshakeState({ initiator: true }).writeMessage(new Uint8Array()));
      ws.onerror = () => {};
      wsStalled.push(ws);
    }
    await new Promise((r) => setTimeout(r, 300));
    const took = await timedCall(net);
    assert(took < HANDSHAKE_TIMEOUT_MS, `the honest peer waited ${Math.round(took)} ms, as long as the stalled ones`);
    await wsHandshake(net, "wshonest.dev", await rawPeer(net, "wshonest.dev"));
    // A stalled handshake that was not evicted is closed at the deadline (5 s), not held.
    const t0 = Date.now();
    const c = await connect(a.net!.tcpPort);
    const e = new HandshakeState({ initiator: true }).writeMessage(new Uint8Array());
    await c.write(Uint8Array.of(0, e.length, ...e));
    stalled.push(c);
    // Not before the deadline; after it, as late as a busy machine runs the timer, but not held for good.
    assert(await closedByNode(c, 30_000), "a stalled handshake is closed");
    const held = Date.now() - t0;
    assert(held >= HANDSHAKE_TIMEOUT_MS - 500, `a stalled handshake was closed after ${held} ms, before its deadline`);
  } finally {
    for (const c of stalled) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    for (const ws of wsStalled) ws.close();
    await net.close();
  }
});

Deno.test("listeners: cross-site and rebound requests to the local endpoints are refused and install nothing", async () => {
  const n = await bootNode();
  try {
    const body = await pingInstallBody();
    const message = JSON.stringify({ process: PING, body: '"ping"', expects_response: 5 });
    for (const [path, payload] of [["/rpc:distro:sys/install", body], ["/rpc:distro:sys/message", message]]) {
      const url = `http://127.0.0.1:${n.port}${path}`;
      // What any page can send without a preflight.
      const crossSite = await fetch(url, {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "text/plain", "sec-fetch-site": "cross-site" },
        body: payload,
      });
      assertEquals(crossSite.status, 403, path);
      assertMatch((await crossSite.json()).error, /cross-site request refused: Origin https:\/\/evil\.example/);
      // A foreign Origin even with the right content type (a preflight this node never approves).
      const foreign = await fetch(url, {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "application/json" },
        body: payload,
      });
      assertEquals(foreign.status, 403, path);
      await foreign.body?.cancel();
      // DNS rebinding: a foreign name resolved to 127.0.0.1 carries its own Host.
      const len = enc(payload).length;
      const rebound = await rawHttp(
        n.port,
        `POST ${path} HTTP/1.1\r\nHost: evil.example:${n.port}\r\nOrigin: http://evil.example:${n.port}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${len}\r\n\r\n${payload}`,
      );
      // Refused before any route is looked at: the server answers only its own hostnames (421).
      assertEquals(rebound.status, 421, path);
      assertMatch(rebound.text, /Host evil\.example is not this node/);
      // No Origin (not a browser), but a content type a page could send: refused too.
      const plain = await fetch(url, { method: "POST", headers: { "content-type": "text/plain" }, body: payload });
      assertEquals(plain.status, 415, path);
      assertMatch((await plain.json()).error, /Content-Type must be application\/json.*inject-message/);
      // The preflight gets no CORS approval.
      const preflight = await fetch(url, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
      });
      assert(preflight.status >= 400, `preflight answered ${preflight.status}`);
      assertEquals(preflight.headers.get("access-control-allow-origin"), null);
      await preflight.body?.cancel();
    }
    // Nothing was installed.
    const r = await inject(n, PING, "ping", { timeout: 2 });
    assertEquals([r.status, r.error], [502, "Offline"]);
    assert(n.lines.some((l) => l.includes("cross-site request refused")), "refusals are logged");
    // The CLI's way in still works.
    const installed = await postToNode(n.port, "/rpc:distro:sys/install", JSON.parse(body));
    assertEquals(installed.status, 200, JSON.stringify(installed.json));
    assertEquals(await injectJson(n, PING, "ping"), "pong");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("listeners: oversized and chunked bodies get 413 while streaming, without buffering them", async () => {
  const n = await bootNode();
  const path = "/rpc:distro:sys/install";
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${n.port}\r\nContent-Type: application/json\r\n`;
  try {
    // A Content-Length over the limit is refused before any body byte is read.
    const announced = await rawHttp(n.port, `${head}Content-Length: ${200 * 1024 * 1024}\r\n\r\n[0,0,0`);
    assertEquals(announced.status, 413);
    assertMatch(announced.text, new RegExp(`over the ${MAX_BODY}-byte limit`));

    // A 1 GiB chunked body with no Content-Length: the answer comes at the limit, and memory stays flat.
    const rss0 = Deno.memoryUsage().rss;
    const { status, sent } = await chunkedFlood(n, head, 1024 * 1024 * 1024);
    const grew = Deno.memoryUsage().rss - rss0;
    assertEquals(status, 413);
    assert(sent < 512 * 1024 * 1024, `the node let ${sent} bytes in before answering`);
    assert(grew < 200 * 1024 * 1024, `RSS grew by ${Math.round(grew / 1048576)} MiB`);

    // 50M-element JSON: over the limit by size; a smaller one of many elements is refused before parsing.
    const elements = await fetch(`http://127.0.0.1:${n.port}/rpc:distro:sys/message`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"process":"a:b:c","body":"x","pad":[${"0,".repeat(5_000_000)}0]}`,
    });
    assertEquals(elements.status, 400);
    assertMatch((await elements.json()).error, /more than 100000 elements/);

    // A real package with a 20 MiB file still installs.
    const big = JSON.parse(await pingInstallBody());
    big.files["big.bin"] = encodeBase64(new Uint8Array(20 * 1024 * 1024).fill(7));
    const ok = await postToNode(n.port, path, big);
    assertEquals(ok.status, 200, JSON.stringify(ok.json));
    assertEquals(await injectJson(n, PING, "ping"), "pong");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

/** Streams `total` bytes of chunked body until the node answers; returns its status and what was sent by then. */
async function chunkedFlood(n: TestNode, head: string, total: number): Promise<{ status: number; sent: number }> {
  const conn = await connect(n.port);
  const chunk = new Uint8Array(1024 * 1024).fill(0x20);
  const frame = new Uint8Array([...enc(`${chunk.length.toString(16)}\r\n`), ...chunk, ...enc("\r\n")]);
  let sent = 0;
  let answered = false;
  const answer = new Response(conn.readable).text().then((t) => {
    answered = true;
    return t;
  });
  try {
    await conn.write(enc(`${head}Transfer-Encoding: chunked\r\n\r\n`));
    while (!answered && sent < total) {
      let w = 0;
      while (w < frame.length) w += await conn.write(frame.subarray(w));
      sent += chunk.length;
    }
  } catch { /* the node closed its side: the answer is in */ }
  const text = await answer;
  return { status: Number(text.split(" ")[1]), sent };
}

interface NodeUnderLimit {
  node: NodeProcess;
  port: number;
  tcp: number;
  ws: number;
  /** Descriptors the node holds once settled. */
  used: number;
  /** Sets the running node's open-file limit (soft and hard), as `ulimit -n` would have. */
  setLimit(n: number): Promise<void>;
}

/** A node in its own process with ping started, whose file limit the test lowers with prlimit. */
async function withNodeUnderLimit(f: (n: NodeUnderLimit) => Promise<void>) {
  const port = freePort(), tcp = freePort(), ws = freePort();
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-listeners-" });
  await Deno.remove(home);
  const node = new NodeProcess([
    ...["-p", String(port), "-o", home, "-c", String(freePort())],
    ...["--tcp-port", String(tcp), "--ws-port", String(ws)],
  ]);
  try {
    await node.waitFor(/node ready in \d+ ms/);
    assertEquals((await cli("start-package", `${PACKAGES}ping`, "-p", String(port))).code, 0);
    const pid = (node as unknown as { child: Deno.ChildProcess }).child.pid;
    // Wait until the node's descriptors settle (the worker pool refills after a start).
    // Deno asks for --allow-all to read /proc/<pid> (even as a command's argument); a shell counts instead.
    const fds = async () =>
      Number(new TextDecoder().decode(
        (await new Deno.Command("bash", { args: ["-c", 'ls "/proc/$0/fd" | wc -l', String(pid)] }).output()).stdout,
      ));
    let used = await fds();
    for (let prev = -1; used !== prev;) {
      await new Promise((r) => setTimeout(r, 500));
      [prev, used] = [used, await fds()];
    }
    const setLimit = async (n: number) => {
      const set = await new Deno.Command("prlimit", { args: [`--pid=${pid}`, `--nofile=${n}:${n}`] }).output();
      assertEquals(set.code, 0, new TextDecoder().decode(set.stderr));
    };
    await f({ node, port, tcp, ws, used, setLimit });
    assert(
      (await new Deno.Command("kill", { args: ["-0", String(pid)] }).output()).success,
      "the node is still running",
    );
  } finally {
    node.kill("SIGKILL");
    await node.exited();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

/** Served: HTTP, the CLI's inject-message, and a WebSocket upgrade. */
async function stillServes({ port, ws }: NodeUnderLimit) {
  await waitFor(
    "the HTTP port",
    async () => (await fetch(`http://127.0.0.1:${port}/our`).then((r) => r.text()).catch(() => "")) === "fake.dev",
  );
  const injected = await cli("inject-message", PING, '"ping"', "-p", String(port));
  assertEquals([injected.code, injected.out.trim()], [0, '"pong"'], injected.err);
  (await openWs(`ws://127.0.0.1:${ws}/`, 5000)).close();
}

Deno.test("listeners: the reported attack, 1000 idle connections to the WS port at ulimit -n 1024, leaves the node up", async () => {
  await withNodeUnderLimit(async (n) => {
    await n.setLimit(1024);
    const flood: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 1000; i++) flood.push(await connect(n.ws));
      await stillServes(n);
      // The caps keep the node's descriptors well inside the limit: accept never even failed.
      assert(!/accept failed/.test(n.node.output), n.node.output);
    } finally {
      for (const c of flood) c.close();
    }
  });
});

Deno.test("listeners: accept failing for real (EMFILE) is logged once per burst and the node goes on serving", async () => {
  await withNodeUnderLimit(async (n) => {
    // Leave the node a handful of free descriptors, then open many more connections than that.
    await n.setLimit(n.used + 12);
    const flood: Deno.TcpConn[] = [];
    try {
      for (const p of [n.ws, n.tcp, n.port]) {
        for (let i = 0; i < 40; i++) flood.push(await connect(p));
      }
      await n.node.waitFor(/accept failed \(Too many open files/);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      for (const c of flood) c.close();
    }
    await stillServes(n);
    await n.node.waitFor(/accepting again after \d+ failed accepts/);
    // Once per burst, not once per failure.
    const logged = n.node.output.match(/accept failed/g)!.length;
    assert(logged <= 6, `accept failure logged ${logged} times`);
  });
});
