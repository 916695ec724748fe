/**
 * The servers the http-client tests talk to, real ones on 127.0.0.1: an HTTP
 * and WebSocket server on Deno.serve, and a raw TCP one that lies about its
 * Content-Length.
 */

export interface TestServers {
  /** `http://127.0.0.1:<port>` */
  http: string;
  /** `ws://127.0.0.1:<port>` */
  ws: string;
  /** A server whose answer claims a 1 GB body and sends a few bytes. */
  liar: string;
  /** A WebSocket server that completes the handshake and then never reads. */
  mute: string;
  /** A server that reads a request and never answers; `stalled` counts its connections still open. */
  staller: string;
  stalled: () => number;
  /** WebSockets the server holds open now, and what each was opened with. */
  sockets: { socket: WebSocket; token: string | null; closed: boolean }[];
  /** The path and query of every HTTP request the server received, in order. */
  hits: string[];
  /** Messages the WebSocket server received, in order. */
  received: (string | number[])[];
  close(): Promise<void>;
}

/** Bytes the /big endpoint streams: a little more than the 64 MiB a process is handed. */
export const BIG_BYTES = 64 * 2 ** 20 + 64 * 1024;

export function startServers(): TestServers {
  const sockets: TestServers["sockets"] = [];
  const received: TestServers["received"] = [];
  const hits: string[] = [];
  /** Ends the slow handlers at close, so shutdown need not wait them out. */
  const closing = new AbortController();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    hits.push(url.pathname + url.search);
    if (url.pathname === "/ws") {
      if (req.headers.get("upgrade") !== "websocket") return new Response("websockets only", { status: 400 });
      const token = req.headers.get("x-token");
      const { socket, response } = Deno.upgradeWebSocket(req);
      const entry = { socket, token, closed: false };
      sockets.push(entry);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => socket.send(`hello ${token}`);
      socket.onclose = () => entry.closed = true;
      socket.onmessage = (e) => {
        const data = typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)];
        received.push(data);
        if (data === "close me") socket.close(1000, "asked to");
        else if (typeof data === "string") socket.send(`echo: ${data}`);
        else socket.send(new Uint8Array(data.map((b) => 255 - b)));
      };
      return response;
    }
    if (url.pathname === "/echo") {
      const body = new TextDecoder().decode(await req.arrayBuffer());
      const headers = Object.fromEntries(req.headers);
      return Response.json({ method: req.method, headers, body, query: url.search }, {
        status: Number(url.searchParams.get("status") ?? 200),
        headers: { "x-reply": "from the test server", "x-multi-word-header": "yes" },
      });
    }
    if (url.pathname === "/slow") {
      await sleep(5000, closing.signal);
      return new Response("late");
    }
    if (url.pathname === "/hold") {
      // Answers after a moment: requests pile up in flight meanwhile.
      await sleep(1500, closing.signal);
      return new Response("held");
    }
    if (url.pathname === "/big") {
      let sent = 0;
      const chunk = new Uint8Array(256 * 1024);
      return new Response(
        new ReadableStream({
          pull(c) {
            if (sent >= BIG_BYTES) return c.close();
            c.enqueue(chunk);
            sent += chunk.length;
          },
        }),
      );
    }
    if (url.pathname === "/redirect") return Response.redirect(`${url.origin}/echo`, 302);
    return new Response("nothing here", { status: 404 });
  });
  const port = server.addr.port;

  const liar = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const liarConns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of liar) {
      liarConns.push(conn);
      const head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\nContent-Type: text/plain\r\n\r\nonly this";
      conn.write(new TextEncoder().encode(head)).catch(() => {});
    }
  })().catch(() => {});

  const mute = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const muteConns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of mute) {
      muteConns.push(conn);
      acceptWebSocket(conn).catch(() => {});
    }
  })().catch(() => {});

  const staller = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stalled = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of staller) {
      stalled.add(conn);
      (async () => {
        const buf = new Uint8Array(8192);
        while ((await conn.read(buf).catch(() => null)) !== null);
        stalled.delete(conn);
      })();
    }
  })().catch(() => {});

  return {
    http: `http://127.0.0.1:${port}`,
    staller: `http://127.0.0.1:${staller.addr.port}`,
    stalled: () => stalled.size,
    mute: `ws://127.0.0.1:${mute.addr.port}`,
    ws: `ws://127.0.0.1:${port}`,
    liar: `http://127.0.0.1:${liar.addr.port}`,
    sockets,
    hits,
    received,
    async close() {
      closing.abort();
      for (const s of sockets) if (!s.closed) s.socket.close();
      liar.close();
      for (const c of liarConns) c.close();
      mute.close();
      staller.close();
      for (const c of stalled) c.close();
      for (const c of muteConns) c.close();
      await server.shutdown();
    },
  };
}

/** Reads a WebSocket handshake from `conn` and accepts it (RFC 6455 section 4.2.2), then reads nothing more. */
async function acceptWebSocket(conn: Deno.Conn) {
  const buf = new Uint8Array(8192);
  const n = await conn.read(buf);
  const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
  const key = head.match(/sec-websocket-key:\s*(\S+)/i)?.[1] ?? "";
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
  );
  const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
  const reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${accept}\r\n\r\n`;
  await conn.write(new TextEncoder().encode(reply));
}

/** A loopback port nobody listens on (bound, then let go). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** Waits `ms`, or less if `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}
