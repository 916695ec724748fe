/**
 * Kernel benchmarks: messaging between two processes through the kernel,
 * spawn, idle memory and boot, each beside a raw Deno baseline run now.
 */
import { Node } from "../../runtime/boot.ts";
import { buildPackage } from "../../runtime/packages/build.ts";
import { readPkgDir } from "../../runtime/packages/install.ts";
import { callProcess, fmt, median, printRows, type Row } from "./util.ts";
import { bootTimes } from "./boot_times.ts";
import { startChain } from "../../runtime/testing.ts";

const ECHO = new URL("./echo_worker.ts", import.meta.url);
const KBENCH = new URL("./kbench", import.meta.url).pathname;

function rawWorker(): Worker {
  return new Worker(ECHO, { type: "module", deno: { permissions: "none" } } as WorkerOptions);
}

async function rawPipelined(w: Worker, n: number): Promise<number> {
  const body = new TextEncoder().encode("ping");
  const done = Promise.withResolvers<void>();
  let got = 0;
  w.onmessage = () => {
    if (++got === n) done.resolve();
  };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) w.postMessage({ id: i, body });
  await done.promise;
  return performance.now() - t0;
}

async function rawPingPong(w: Worker, n: number): Promise<number[]> {
  const body = new TextEncoder().encode("ping");
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      w.onmessage = () => r();
      w.postMessage({ id: i, body });
    });
    times.push(performance.now() - t0);
  }
  return times;
}

const RELAY = new URL("./relay_worker.ts", import.meta.url);

/** Round trips worker → main → worker → main → worker: the kernel's four hops, without a kernel. */
async function relayPingPong(n: number): Promise<number[]> {
  const mk = () => new Worker(RELAY, { type: "module", deno: { permissions: "none" } } as WorkerOptions);
  const client = mk(), server = mk();
  const done = Promise.withResolvers<number[]>();
  client.onmessage = (e) => {
    if (e.data.to === "server") server.postMessage({ role: "echo", body: e.data.body });
    else if (e.data.to === "main") done.resolve(e.data.times);
  };
  server.onmessage = (e) => client.postMessage({ role: "reply", body: e.data.body });
  client.postMessage({ role: "run", n });
  const times = await done.promise;
  client.terminate();
  server.terminate();
  return times;
}

async function coldWorker(): Promise<number> {
  const t0 = performance.now();
  const w = rawWorker();
  await new Promise<void>((r) => {
    w.onmessage = () => r();
    w.postMessage("up");
  });
  const ms = performance.now() - t0;
  w.terminate();
  return ms;
}

/** RSS of this process and its children (process hosts), read through a shell: Deno wants --allow-all for /proc. */
async function rssWithHosts(): Promise<number> {
  const script = "cat /proc/$0/status; for c in $(cat /proc/$0/task/*/children); do cat /proc/$c/status; done";
  const out = await new Deno.Command("bash", { args: ["-c", script, String(Deno.pid)], stderr: "null" }).output();
  const kib = [...new TextDecoder().decode(out.stdout).matchAll(/^VmRSS:\s+(\d+) kB/gm)];
  return kib.reduce((sum, m) => sum + Number(m[1]) * 1024, 0);
}

function call<T>(node: Node, body: unknown): Promise<T> {
  return callProcess<T>(node.port, "client:kbench:bench.os", body);
}

export async function kernelBench(): Promise<Row[]> {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-bench-" });
  const node = await Node.boot({ home, name: "bench.dev", port: 0, write: () => {} });
  const { packageId } = await buildPackage(KBENCH, { onlyIfStale: true });
  node.install(packageId, readPkgDir(`${KBENCH}/pkg`));
  const rows: Row[] = [];
  try {
    const N = 20_000;
    const w = rawWorker();
    await rawPipelined(w, 2000);
    await call(node, { Pipelined: { n: 2000 } });
    const rawMs: number[] = [], ourMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      rawMs.push(await rawPipelined(w, N));
      ourMs.push((await call<{ ms: number }>(node, { Pipelined: { n: N } })).ms);
    }
    const rawRate = N / (median(rawMs) / 1000), ourRate = N / (median(ourMs) / 1000);
    rows.push({
      name: `pipelined request/response, ${fmt(N, 0)} in flight`,
      ours: `${fmt(ourRate)} msg/s`,
      baseline: `${fmt(rawRate)} msg/s raw worker echo`,
      ratio: ourRate / rawRate,
      target: "≥ 0.80×",
      pass: ourRate / rawRate >= 0.8,
    });

    const P = 1000;
    await rawPingPong(w, 200);
    await call(node, { PingPong: { n: 200 } });
    const rawLats: number[] = [], ourLats: number[] = [], relayLats: number[] = [];
    for (let i = 0; i < 3; i++) {
      rawLats.push(median(await rawPingPong(w, P)));
      relayLats.push(median(await relayPingPong(P)));
      ourLats.push(median((await call<{ times: number[] }>(node, { PingPong: { n: P } })).times));
    }
    const rawLat = median(rawLats), ourLat = median(ourLats), relayLat = median(relayLats);
    rows.push({
      name: "ping-pong latency (median of 3 interleaved runs)",
      ours: `${(ourLat * 1000).toFixed(0)} µs`,
      baseline: `${(rawLat * 1000).toFixed(0)} µs raw worker echo`,
      ratio: ourLat / rawLat,
      target: "≤ 4.0×",
      pass: ourLat / rawLat <= 4,
    });
    rows.push({
      name: "ping-pong latency against the same four hops without a kernel",
      ours: `${(ourLat * 1000).toFixed(0)} µs`,
      baseline: `${(relayLat * 1000).toFixed(0)} µs worker→main→worker relay`,
      ratio: ourLat / relayLat,
      target: "report",
      pass: true,
    });
    w.terminate();

    const S = 20;
    const cold: number[] = [];
    for (let i = 0; i < S; i++) {
      await new Promise((r) => setTimeout(r, 100));
      cold.push(await coldWorker());
    }
    // A spawn after a pause finds a warm worker; back to back, the pool runs dry.
    const spawned = (await call<{ times: number[] }>(node, { Spawn: { n: S, keep: false, gap: 100 } })).times;
    const burst = (await call<{ times: number[] }>(node, { Spawn: { n: S, keep: false } })).times;
    rows.push({
      name: "spawn burst, 20 back to back (median)",
      ours: `${median(burst).toFixed(2)} ms`,
      baseline: `${median(cold).toFixed(2)} ms cold new Worker`,
      ratio: median(burst) / median(cold),
      target: "report",
      pass: true,
    });
    rows.push({
      name: "spawn → child's first message (median)",
      ours: `${median(spawned).toFixed(2)} ms`,
      baseline: `${median(cold).toFixed(2)} ms cold new Worker`,
      ratio: median(spawned) / median(cold),
      target: "≤ 0.50×",
      pass: median(spawned) / median(cold) <= 0.5,
    });

    // Memory: RSS growth per idle process, measured after the warm pool refills.
    await new Promise((r) => setTimeout(r, 500));
    const before = await rssWithHosts();
    const K = 20;
    const { ids } = await call<{ ids: string[] }>(node, { Spawn: { n: K, keep: true } });
    await new Promise((r) => setTimeout(r, 1000));
    const perProc = (await rssWithHosts() - before) / K / 2 ** 20;
    const rawBefore = await rssWithHosts();
    const raws = Array.from({ length: K }, rawWorker);
    await Promise.all(raws.map((r) =>
      new Promise<void>((res) => {
        r.onmessage = () => res();
        r.postMessage("up");
      })
    ));
    await new Promise((r) => setTimeout(r, 1000));
    const perRaw = (await rssWithHosts() - rawBefore) / K / 2 ** 20;
    raws.forEach((r) => r.terminate());
    for (const id of ids) node.kernel.killProcess(id);
    rows.push({
      name: "memory per idle process (RSS)",
      ours: `${perProc.toFixed(1)} MiB`,
      baseline: `${perRaw.toFixed(1)} MiB idle raw worker`,
      ratio: perProc / perRaw,
      target: "report",
      pass: true,
    });
  } finally {
    await node.shutdown();
  }
  await Deno.remove(home, { recursive: true });
  const chain = await startChain();
  const boot = await bootTimes(chain.port).finally(() => chain.stop());
  rows.push({
    name: "`deno task node` to ready (first boot / resume)",
    ours: `${boot.first.toFixed(0)} / ${boot.resume.toFixed(0)} ms`,
    baseline: `${boot.hello.toFixed(0)} ms deno run hello.ts`,
    ratio: boot.resume / boot.hello,
    target: "report",
    pass: true,
  });
  return rows;
}

if (import.meta.main) printRows("kernel", await kernelBench());
