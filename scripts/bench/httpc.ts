/**
 * http-client benchmarks: a process sending HTTP requests and WebSocket
 * messages through http-client:distro:sys, beside the node's own thread
 * calling fetch and WebSocket directly, against the same server (a separate
 * process) in the same run.
 */
import { Node } from "../../runtime/boot.ts";
import { buildPackage } from "../../runtime/packages/build.ts";
import { readPkgDir } from "../../runtime/packages/install.ts";
import { callProcess, fmt, median, type Row } from "./util.ts";

const HCBENCH = new URL("./hcbench", import.meta.url).pathname;
const SERVER = new URL("./httpc_server.ts", import.meta.url).pathname;
const SMALL = 5000;
const WINDOW = 32;
const MIBS = 200;
const ROUND_TRIPS = 2000;

async function windowed(n: number, window: number, op: () => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(window, n) }, async () => {
    while (next++ < n) await op();
  }));
}

async function directRequests(url: string, n: number, window: number): Promise<number> {
  const t = performance.now();
  await windowed(n, window, async () => {
    const r = await fetch(url);
    if (r.status !== 200) throw new Error(`status ${r.status}`);
    await r.arrayBuffer();
  });
  return performance.now() - t;
}

async function directRoundTrips(url: string, n: number): Promise<number[]> {
  const ws = new WebSocket(url);
  const messages: ((v: unknown) => void)[] = [];
  ws.onmessage = () => messages.shift()?.(null);
  await new Promise((r) => ws.onopen = r);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const echoed = new Promise((r) => messages.push(r));
    ws.send(`ping ${i}`);
    await echoed;
    times.push(performance.now() - t);
  }
  ws.close();
  return times;
}

export async function httpcBench(): Promise<Row[]> {
  const server = new Deno.Command(Deno.execPath(), { args: ["run", "--allow-net", SERVER], stdout: "piped" }).spawn();
  const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value?.trim());
  const base = `http://127.0.0.1:${port}`;
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-hcbench-" });
  const node = await Node.boot({ home, name: "bench.dev", port: 0, write: () => {} });
  const { packageId } = await buildPackage(HCBENCH, { onlyIfStale: true });
  node.install(packageId, readPkgDir(`${HCBENCH}/pkg`));
  const call = <T>(body: unknown) => callProcess<T>(node.port, "runner:hcbench:bench.os", body);
  const rows: Row[] = [];
  try {
    console.error(`httpc: ${SMALL} small requests, ${WINDOW} in flight`);
    await directRequests(`${base}/small`, 500, WINDOW); // warm both sides
    await call({ Http: { url: `${base}/small`, n: 500, window: WINDOW } });
    const ours = await call<{ ms: number }>({ Http: { url: `${base}/small`, n: SMALL, window: WINDOW } });
    const direct = await directRequests(`${base}/small`, SMALL, WINDOW);
    const rps = (ms: number) => `${fmt(SMALL / (ms / 1000))} req/s`;
    rows.push({
      name: `HTTP GET through http-client, ${WINDOW} in flight`,
      ours: rps(ours.ms),
      baseline: `${rps(direct)} fetch on the node's thread`,
      ratio: direct / ours.ms,
      target: "report",
      pass: true,
    });

    console.error(`httpc: ${MIBS} responses of 1 MiB`);
    const big = await call<{ ms: number; bytes: number }>({ Http: { url: `${base}/mib`, n: MIBS, window: 4 } });
    if (big.bytes !== MIBS * 2 ** 20) throw new Error(`downloaded ${big.bytes} bytes`);
    const bigDirect = await directRequests(`${base}/mib`, MIBS, 4);
    const mibps = (ms: number) => `${fmt(MIBS / (ms / 1000))} MiB/s`;
    rows.push({
      name: "1 MiB responses through http-client (blob to the process), 4 in flight",
      ours: mibps(big.ms),
      baseline: `${mibps(bigDirect)} fetch on the node's thread`,
      ratio: bigDirect / big.ms,
      target: "report",
      pass: true,
    });

    console.error(`httpc: ${ROUND_TRIPS} WebSocket round trips`);
    const ws = await call<{ times: number[] }>({ Ws: { url: `ws://127.0.0.1:${port}/ws`, n: ROUND_TRIPS } });
    const wsDirect = await directRoundTrips(`ws://127.0.0.1:${port}/ws`, ROUND_TRIPS);
    const [a, b] = [median(ws.times), median(wsDirect)];
    rows.push({
      name: "WebSocket push → server echo → process (median round trip)",
      ours: `${(a * 1000).toFixed(0)} µs`,
      baseline: `${(b * 1000).toFixed(0)} µs WebSocket on the node's thread`,
      ratio: a / b,
      target: "report",
      pass: true,
    });
  } finally {
    await node.shutdown();
    await Deno.remove(home, { recursive: true }).catch(() => {});
    server.kill();
    await server.status;
  }
  return rows;
}
