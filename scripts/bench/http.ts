/**
 * HTTP benchmarks (`deno task bench http`): a node in its own OS process with
 * scripts/bench/hbench installed, beside a bare Hono app on Deno.serve in
 * another, measured in the same run:
 *
 * - requests/s to a bound path whose process answers at once, driven by wrk
 *   (a separate process; Debian package `wrk`), against the bare handler;
 * - WebSocket pushes/s from the process to a client, against the bare app's
 *   socket.send loop;
 * - the node's peak RSS growth while a 1 GiB body is uploaded to a bound path
 *   (VmHWM of its process), against the body's size.
 */
import { buildPackage } from "../../runtime/packages/build.ts";
import { readPkgDir } from "../../runtime/packages/install.ts";
import { encodeBase64 } from "../../runtime/bytes.ts";
import { RUN_ARGS } from "../../cli/run_args.ts";
import { fmt, type Row } from "./util.ts";

const HBENCH = new URL("./hbench", import.meta.url).pathname;
const BARE = new URL("./hono_bare.ts", import.meta.url).pathname;
const APP = "server:hbench:bench.os";
const WRK_SECONDS = 5;
const WRK_CONNECTIONS = 32;
const PUSHES = 50_000;

/** Starts a child that prints `pattern` with a port when it is ready. */
async function start(
  args: string[],
  pattern: RegExp,
  what: string,
): Promise<{ child: Deno.ChildProcess; port: number }> {
  const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit", stdin: "null" }).spawn();
  const reader = child.stdout.getReader();
  let out = "";
  const until = Date.now() + 60_000;
  while (!pattern.test(out)) {
    const { value, done } = await reader.read();
    if (done || Date.now() > until) throw new Error(`${what} did not start:\n${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  child.stdout.pipeTo(new WritableStream()).catch(() => {});
  return { child, port: Number(pattern.exec(out)![1]) };
}

async function wrk(url: string): Promise<number> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("wrk", {
      args: ["-t1", `-c${WRK_CONNECTIONS}`, `-d${WRK_SECONDS}s`, url],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch {
    throw new Error("the http benchmark needs wrk: apt-get install -y wrk");
  }
  const text = new TextDecoder().decode(out.stdout);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!m) throw new Error(`wrk printed no rate:\n${text}${new TextDecoder().decode(out.stderr)}`);
  if (/Non-2xx/.test(text)) throw new Error(`wrk saw errors from ${url}:\n${text}`);
  return Number(m[1]);
}

/** Messages/s: a WebSocket client asks for `n` pushes and times them all arriving. */
async function pushes(url: string, n: number): Promise<number> {
  const ws = new WebSocket(url);
  await new Promise((r, j) => {
    ws.onopen = r;
    ws.onerror = () => j(new Error(`cannot open ${url}`));
  });
  let got = 0;
  const t0 = performance.now();
  await new Promise<void>((r) => {
    ws.onmessage = () => ++got === n && r();
    ws.send(String(n));
  });
  const ms = performance.now() - t0;
  ws.close();
  return n / (ms / 1000);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The peak RSS of process `pid` so far (VmHWM), read through a shell: Deno wants --allow-all for /proc. */
async function peakRss(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "null" }).output();
  const m = /VmHWM:\s+(\d+) kB/.exec(new TextDecoder().decode(out.stdout));
  if (!m) throw new Error(`no VmHWM for process ${pid}`);
  return Number(m[1]) * 1024;
}

async function upload(url: string, total: number): Promise<string> {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= total) return c.close();
      c.enqueue(new Uint8Array(1024 * 1024).fill(7));
      sent += 1024 * 1024;
    },
  });
  const r = await fetch(url, { method: "POST", body, headers: { "content-length": String(total) } });
  return await r.text();
}

export async function httpBench(): Promise<Row[]> {
  console.log("http: building the bench package, starting a node and a bare Hono server");
  const { packageId } = await buildPackage(HBENCH, { onlyIfStale: true });
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-bench-http-" });
  const node = await start(
    [...RUN_ARGS, "boot-fake-node", "-f", "fake.dev", "-p", "0", "-o", home, "-c", String(freePort())],
    /node ready[\s\S]*?http:\/\/(?:127\.0\.0\.1|localhost):(\d+)/,
    "the node",
  );
  const bare = await start(["run", "--allow-net", BARE], /listening (\d+)/, "the bare Hono server");
  try {
    const files = Object.fromEntries(Object.entries(readPkgDir(`${HBENCH}/pkg`)).map(([k, v]) => [k, encodeBase64(v)]));
    const installed = await fetch(`http://127.0.0.1:${node.port}/rpc:distro:sys/install`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ package_id: packageId, files }),
    });
    if (installed.status !== 200) throw new Error(`install failed: ${await installed.text()}`);
    const ours = `http://127.0.0.1:${node.port}/${APP}`;
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${ours}/hello`).then((r) => r.text()).catch(() => "")) === "hello") break;
      await new Promise((r) => setTimeout(r, 100));
    }

    console.log("http: 1 GiB upload to a bound path");
    const before = await peakRss(node.child.pid);
    const how = await upload(`${ours}/upload`, 1024 * 2 ** 20);
    const grew = (await peakRss(node.child.pid) - before) / 2 ** 20;
    if (how !== "spooled") throw new Error(`the upload was answered "${how}"`);

    console.log(`http: wrk -c${WRK_CONNECTIONS} for ${WRK_SECONDS} s, bare Hono then the node, twice`);
    const bareRates = [await wrk(`http://127.0.0.1:${bare.port}/hello`)];
    const ourRates = [await wrk(`${ours}/hello`)];
    bareRates.push(await wrk(`http://127.0.0.1:${bare.port}/hello`));
    ourRates.push(await wrk(`${ours}/hello`));
    const rps = Math.max(...ourRates), bareRps = Math.max(...bareRates);

    console.log(`http: ${PUSHES} WebSocket pushes`);
    const bareMsgs = await pushes(`ws://127.0.0.1:${bare.port}/ws`, PUSHES);
    const ourMsgs = await pushes(`ws://127.0.0.1:${node.port}/${APP}/ws`, PUSHES);
    return [
      {
        name: `requests/s to a bound path answered at once (wrk, ${WRK_CONNECTIONS} connections, best of 2)`,
        ours: `${fmt(rps)} req/s`,
        baseline: `${fmt(bareRps)} req/s bare Hono on Deno.serve`,
        ratio: rps / bareRps,
        target: "≥ 0.40×",
        pass: rps / bareRps >= 0.4,
      },
      {
        name: `WebSocket pushes process → client (${fmt(PUSHES)} messages)`,
        ours: `${fmt(ourMsgs)} msg/s`,
        baseline: `${fmt(bareMsgs)} msg/s bare socket.send`,
        ratio: ourMsgs / bareMsgs,
        target: "report",
        pass: true,
      },
      {
        name: "peak RSS growth of the node during a 1 GiB upload to a bound path",
        ours: `${grew.toFixed(0)} MiB`,
        baseline: "1024 MiB, the body",
        ratio: grew / 1024,
        target: "< 1.00×",
        pass: grew < 1024,
      },
    ];
  } finally {
    for (const c of [node.child, bare.child]) {
      try {
        c.kill("SIGINT");
      } catch { /* gone */ }
      await c.status;
    }
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}
