/**
 * `deno task bench apps`: memory and start-up of a node with many installed
 * packages (copies of packages/ping under distinct names and publishers), the
 * node in its own OS process as a user starts it. Measured over the node's
 * whole process tree (RSS and CPU-seconds summed from /proc over the node and
 * its descendants; the harness excluded): after installing them, and after a
 * restart on the kept home, with the time until every package's process has
 * answered a request. The baseline, in the same run, is the same node with a
 * process host per package (HYPERDENO_HOSTS=package, the design before the
 * shared pool). Also `deno task node` to ready, first boot and resume.
 *
 * APPS_N sets how many packages (default 50); APPS_HOSTS the pool's size for
 * the measured node (default: the node's own default).
 */
import { startChain } from "../../runtime/testing.ts";
import { buildPackage } from "../../runtime/packages/build.ts";
import { readPkgDir } from "../../runtime/packages/install.ts";
import { encodeBase64 } from "../../runtime/bytes.ts";
import { RUN_ARGS } from "../../cli/run_args.ts";
import { printRows, type Row } from "./util.ts";
import { treeCpu } from "./profile.ts";
import { bootTimes } from "./boot_times.ts";
import { freePort } from "../../runtime/free_port.ts";

const PING = new URL("../../packages/ping", import.meta.url).pathname;
const MiB = 2 ** 20;
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
/** After the last answer, how long the tree is left alone before its memory is read. */
const SETTLE_MS = 3000;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** RSS (bytes), CPU-seconds (ended children included) and process count of a process tree, from /proc. */
async function tree(root: number): Promise<{ rss: number; cpu: number; procs: number }> {
  const use = await treeCpu([root]);
  let rss = 0, cpu = use.get(root)?.reapedCpu ?? 0;
  for (const u of use.values()) {
    rss += u.rss;
    cpu += u.cpu;
  }
  return { rss, cpu, procs: use.size };
}

/** A node in its own OS process, booted with `boot-fake-node --persist` on `home`. */
class AppsNode {
  child!: Deno.ChildProcess;
  port = freePort();
  startedAt = 0;
  /** Milliseconds from the spawn to "node ready". */
  readyMs = 0;
  constructor(
    readonly name: string,
    readonly home: string,
    private chainPort: number,
    private hosts: string | undefined,
  ) {}

  async start() {
    this.startedAt = performance.now();
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        ...RUN_ARGS,
        "boot-fake-node",
        "-f",
        this.name,
        "-p",
        String(this.port),
        "-o",
        this.home,
        "-c",
        String(this.chainPort),
        "--persist",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: this.hosts ? { HYPERDENO_HOSTS: this.hosts } : {},
    }).spawn();
    let err = "";
    (async () => {
      for await (const chunk of this.child.stderr.pipeThrough(new TextDecoderStream())) {
        err = (err + chunk).slice(-4000);
      }
    })().catch(() => {});
    const reader = this.child.stdout.getReader();
    const dec = new TextDecoder();
    let out = "";
    while (!/node ready/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${this.name} did not boot:\n${out}\n${err}`);
      out += dec.decode(value);
    }
    this.readyMs = performance.now() - this.startedAt;
    reader.releaseLock();
    (async () => {
      for await (const _ of this.child.stdout) { /* drop: the node must never block on a full pipe */ }
    })().catch(() => {});
  }

  async post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const r = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: r.status, json: await r.json() };
  }

  async install(packageId: string, files: Record<string, string>) {
    const r = await this.post("/rpc:distro:sys/install", { package_id: packageId, files });
    if (r.status !== 200) throw new Error(`install of ${packageId} failed: ${JSON.stringify(r.json)}`);
  }

  /** Pings `process` until it answers "pong"; resolves with the milliseconds since the node was started. */
  async answered(process: string): Promise<number> {
    for (const until = Date.now() + 120_000; Date.now() < until;) {
      const r = await this.post("/rpc:distro:sys/message", {
        process,
        body: JSON.stringify("ping"),
        expects_response: 30,
      }).catch(() => null);
      if (r?.status === 200 && r.json.body === JSON.stringify("pong")) return performance.now() - this.startedAt;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${process} on ${this.name} never answered`);
  }

  async stop() {
    try {
      this.child.kill("SIGINT");
    } catch { /* gone */ }
    await this.child.status;
  }
}

interface Measured {
  /** From the first install to the last package's answer. */
  installMs: number;
  installed: { rss: number; cpu: number; procs: number };
  restartReadyMs: number;
  restartAllMs: number;
  restarted: { rss: number; cpu: number; procs: number };
}

/** Installs `n` ping copies on a fresh node, then restarts it on its home; the node's tree measured after each. */
export async function measure(
  label: string,
  n: number,
  chainPort: number,
  hosts: string | undefined,
): Promise<Measured> {
  const { packageId } = await buildPackage(PING, { onlyIfStale: true });
  const files = Object.fromEntries(
    Object.entries(readPkgDir(`${PING}/pkg`)).map(([k, v]) => [k, encodeBase64(v)]),
  );
  const processName = packageId.split(":")[0];
  const ids = Array.from({ length: n }, (_, i) => `ping${i + 1}:pub${i + 1}.os`);
  const home = await Deno.makeTempDir({ prefix: `hyperdeno-apps-${label}-` });
  await Deno.remove(home);
  const name = `apps-${label}-${Deno.pid}.dev`;
  const node = new AppsNode(name, home, chainPort, hosts);
  try {
    await node.start();
    const t0 = performance.now();
    for (const id of ids) await node.install(id, files);
    const answers = await Promise.all(ids.map((id) => node.answered(`${processName}:${id}`)));
    const installMs = Math.max(...answers) - (t0 - node.startedAt);
    console.error(`apps ${label}: ${n} installed and answering in ${(installMs / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const installed = await tree(node.child.pid);
    console.error(`apps ${label}: tree ${gib(installed.rss)}, ${installed.procs} processes, ${installed.cpu} CPU-s`);
    await node.stop();

    const again = new AppsNode(name, home, chainPort, hosts);
    try {
      await again.start();
      const restartAllMs = Math.max(...await Promise.all(ids.map((id) => again.answered(`${processName}:${id}`))));
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const restarted = await tree(again.child.pid);
      console.error(
        `apps ${label}: restarted, ready ${(again.readyMs / 1000).toFixed(1)} s, every one answering ` +
          `${(restartAllMs / 1000).toFixed(1)} s after start; tree ${
            gib(restarted.rss)
          }, ${restarted.procs} processes, ` +
          `${restarted.cpu} CPU-s`,
      );
      return { installMs, installed, restartReadyMs: again.readyMs, restartAllMs, restarted };
    } finally {
      await again.stop();
    }
  } finally {
    await node.stop().catch(() => {});
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

export async function appsBench(): Promise<Row[]> {
  const n = Number(env("APPS_N") ?? 50);
  const chain = await startChain();
  const rows: Row[] = [];
  try {
    const boot = await bootTimes(chain.port);
    rows.push({
      name: "`deno task node` to ready (first boot / resume)",
      ours: `${boot.first.toFixed(0)} / ${boot.resume.toFixed(0)} ms`,
      baseline: `${boot.hello.toFixed(0)} ms deno run hello.ts`,
      ratio: boot.resume / boot.hello,
      target: "≤ 1.5 s",
      pass: boot.first <= 1500 && boot.resume <= 1500,
    });
    const pool = await measure("pool", n, chain.port, env("APPS_HOSTS"));
    const base = await measure("perpkg", n, chain.port, "package");
    const perPkg = (b: number) => `${(b / n / MiB).toFixed(1)} MiB/pkg`;
    rows.push({
      name: `node tree RSS, ${n} packages installed (${pool.installed.procs} / ${base.installed.procs} processes)`,
      ours: `${gib(pool.installed.rss)} (${perPkg(pool.installed.rss)})`,
      baseline: `${gib(base.installed.rss)} a host per package`,
      ratio: pool.installed.rss / base.installed.rss,
      target: "≤ 1.5 GiB",
      pass: pool.installed.rss <= 1.5 * 2 ** 30,
    });
    rows.push({
      name: `node tree RSS after a restart (${pool.restarted.procs} / ${base.restarted.procs} processes)`,
      ours: `${gib(pool.restarted.rss)} (${perPkg(pool.restarted.rss)})`,
      baseline: `${gib(base.restarted.rss)} a host per package`,
      ratio: pool.restarted.rss / base.restarted.rss,
      target: "≤ 1.5 GiB",
      pass: pool.restarted.rss <= 1.5 * 2 ** 30,
    });
    rows.push({
      name: `install ${n} packages one by one → every one answered`,
      ours: `${(pool.installMs / 1000).toFixed(1)} s`,
      baseline: `${(base.installMs / 1000).toFixed(1)} s a host per package`,
      ratio: pool.installMs / base.installMs,
      target: "report",
      pass: true,
    });
    rows.push({
      name: `restart: start → "node ready"`,
      ours: `${(pool.restartReadyMs / 1000).toFixed(1)} s`,
      baseline: `${(base.restartReadyMs / 1000).toFixed(1)} s a host per package`,
      ratio: pool.restartReadyMs / base.restartReadyMs,
      target: "report",
      pass: true,
    });
    rows.push({
      name: `restart: start → every one of ${n} answered`,
      ours: `${(pool.restartAllMs / 1000).toFixed(1)} s`,
      baseline: `${(base.restartAllMs / 1000).toFixed(1)} s a host per package`,
      ratio: pool.restartAllMs / base.restartAllMs,
      target: "≤ 10 s",
      pass: pool.restartAllMs <= 10_000,
    });
    rows.push({
      name: "CPU-seconds of the node tree: install + answers / restart + answers",
      ours: `${pool.installed.cpu.toFixed(1)} / ${pool.restarted.cpu.toFixed(1)} CPU-s`,
      baseline: `${base.installed.cpu.toFixed(1)} / ${base.restarted.cpu.toFixed(1)} CPU-s`,
      ratio: pool.restarted.cpu / base.restarted.cpu,
      target: "report",
      pass: true,
    });
  } finally {
    await chain.stop();
  }
  return rows;
}

if (import.meta.main) printRows("apps", await appsBench());
