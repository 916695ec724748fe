/**
 * `deno task bench transfer`: file-transfer:template.os end to end between two
 * nodes in their own OS processes on loopback TCP — 1 GiB of random bytes
 * fake2.dev → fake.dev, from the Download request to a verified file under its
 * final name — against scp of the same file through an sshd started here (its
 * own config, host key and client key in a temp dir, stopped afterwards), with
 * chacha20-poly1305 and aes128-gcm. Also the peak RSS of each node (its
 * process hosts included), and resuming a 1 GiB transfer cut at 50% (the
 * provider SIGKILLed and started again). Many small downloads at once are
 * transfer_many.ts's.
 *
 * FT_BENCH_MIB sets the big file's size (default 1024) for quicker runs.
 */
import { createHash } from "node:crypto";
import { startChain } from "../../runtime/testing.ts";
import { buildPackage } from "../../runtime/packages/build.ts";
import { readPkgDir } from "../../runtime/packages/install.ts";
import { encodeBase64 } from "../../runtime/bytes.ts";
import { RUN_ARGS } from "../../cli/run_args.ts";
import { fmt, type Row } from "./util.ts";
import { machineBusy, Profiler, treeCpu, usedBetween } from "./profile.ts";
import { exists } from "../../runtime/fs.ts";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
/**
 * FT_BENCH_PROFILE=1: the big download alone, printing each process's CPU seconds and both nodes' V8 profiles;
 * FT_BENCH_PROFILE=many: nodes listening for profilers, for transfer_many.ts (here: no scp or sweep).
 */
const PROFILE = env("FT_BENCH_PROFILE") === "1";
const PROFILE_MANY = env("FT_BENCH_PROFILE") === "many";
/** FT_BENCH_BIG_ONLY=1 (implied by FT_BENCH_PROFILE): the big download alone, for tuning it. */
const BIG_ONLY = PROFILE || env("FT_BENCH_BIG_ONLY") === "1";

const PKG_DIR = new URL("../../packages/file-transfer", import.meta.url).pathname;
const FT = "file-transfer:file-transfer:template.os";
const DRIVE = "file-transfer:template.os/files";
const MiB = 2 ** 20;

function sizeMiB(): number {
  try {
    const v = Number(Deno.env.get("FT_BENCH_MIB"));
    return Number.isFinite(v) && v > 0 ? v : 1024;
  } catch {
    return 1024;
  }
}

export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A node in its own OS process (as a user starts it), with file-transfer installed. */
export class BenchNode {
  child!: Deno.ChildProcess;
  port = freePort();
  /** Peak RSS of the node's own process, and of it with its process hosts. */
  peakRss = 0;
  peakTree = 0;
  /** The processes of the tree at its peak, name:MiB. */
  peakParts = "";
  inspect = PROFILE || PROFILE_MANY ? freePort() : 0;
  constructor(readonly name: string, readonly home: string, private chainPort: number) {}

  async start() {
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        ...RUN_ARGS.slice(0, -1),
        ...(this.inspect ? [`--inspect=127.0.0.1:${this.inspect}`] : []),
        RUN_ARGS[RUN_ARGS.length - 1],
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
      stderr: "null",
      env: this.inspect ? { HYPERDENO_INSPECT_CHILDREN: String(this.inspect + 1) } : {},
    }).spawn();
    const reader = this.child.stdout.getReader();
    const dec = new TextDecoder();
    let out = "";
    while (!/node ready/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${this.name} did not boot:\n${out}`);
      out += dec.decode(value);
    }
    reader.releaseLock();
    // Keep reading so the node never blocks on a full pipe; FT_BENCH_LOG=DIR keeps what it prints in DIR/NAME.log.
    const logDir = env("FT_BENCH_LOG");
    const log = logDir ? await Deno.open(`${logDir}/${this.name}.log`, { append: true, create: true }) : null;
    await log?.write(new TextEncoder().encode(out));
    (async () => {
      for await (const chunk of this.child.stdout) await log?.write(chunk);
    })().catch(() => {}).finally(() => log?.close());
  }

  async install() {
    const files = Object.fromEntries(
      Object.entries(readPkgDir(`${PKG_DIR}/pkg`)).map(([k, v]) => [k, encodeBase64(v)]),
    );
    const r = await fetch(`http://127.0.0.1:${this.port}/rpc:distro:sys/install`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ package_id: "file-transfer:template.os", files }),
    });
    if (r.status !== 200) throw new Error(`install on ${this.name} failed: ${await r.text()}`);
    await r.body?.cancel();
  }

  async call<T>(body: unknown, timeout = 60): Promise<T> {
    const r = await fetch(`http://127.0.0.1:${this.port}/rpc:distro:sys/message`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ process: FT, body: JSON.stringify(body), expects_response: timeout }),
    });
    const j = await r.json();
    if (r.status !== 200) throw new Error(`${this.name}: ${JSON.stringify(j)}`);
    return JSON.parse(j.body);
  }

  async kill() {
    try {
      this.child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.child.status;
    // Its process hosts were its children: they end when their pipes close.
  }

  async stop() {
    try {
      this.child.kill("SIGINT");
    } catch { /* gone */ }
    await this.child.status;
  }
}

/** Returns once `a` has listed `b`'s files: the peers know each other. */
export async function linked(a: BenchNode, b: BenchNode) {
  for (let i = 0;; i++) {
    try {
      await a.call({ ListFiles: {} }, 5);
      const r = await fetch(`http://127.0.0.1:${a.port}/rpc:distro:sys/message`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ process: FT, node: b.name, body: '"ListFiles"', expects_response: 5 }),
      });
      await r.body?.cancel();
      if (r.status === 200) return;
    } catch { /* not yet */ }
    if (i > 100) throw new Error(`${a.name} never reached ${b.name}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * RSS of each process and all its descendants, in bytes, from one `ps` (Deno
 * reads another process's /proc files only with --allow-all).
 */
async function treeRss(pids: number[]): Promise<[number, number][]> {
  const out = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid=,rss=,comm="],
    stdout: "piped",
    stderr: "null",
  }).output();
  const kids = new Map<number, number[]>();
  const rss = new Map<number, number>();
  const names = new Map<number, string>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const [pid, ppid, kb] = line.trim().split(/\s+/).map(Number);
    if (!pid) continue;
    names.set(pid, line.trim().split(/\s+/)[3]);
    rss.set(pid, kb * 1024);
    kids.set(ppid, [...kids.get(ppid) ?? [], pid]);
  }
  return pids.map((root) => {
    let total = 0;
    const parts: string[] = [];
    for (const stack = [root]; stack.length;) {
      const p = stack.pop()!;
      total += rss.get(p) ?? 0;
      parts.push(`${names.get(p)}:${Math.round((rss.get(p) ?? 0) / MiB)}`);
      stack.push(...kids.get(p) ?? []);
    }
    lastParts.set(root, parts.join(" "));
    return [rss.get(root) ?? 0, total];
  });
}

/** Profilers started on the nodes' children (process hosts, module workers), which listen at the ports after their node's. */
async function profileChildren(nodes: BenchNode[]): Promise<[string, Profiler][]> {
  const children: [string, Profiler][] = [];
  for (const n of nodes) {
    for (let i = 1; i <= 6; i++) {
      const p = new Profiler(n.inspect + i);
      try {
        await p.start();
        children.push([`${n.name} child at ${n.inspect + i}`, p]);
      } catch { /* none there */ }
    }
  }
  return children;
}

/** Each tree's processes (name:MiB) at the last sample. */
const lastParts = new Map<number, string>();

/** Samples the peak RSS of the nodes' process trees until stopped. */
function sampleRss(nodes: BenchNode[]): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    while (on) {
      const now = await treeRss(nodes.map((n) => n.child.pid)).catch(() => nodes.map(() => [0, 0]));
      nodes.forEach((n, i) => {
        n.peakRss = Math.max(n.peakRss, now[i][0]);
        if (now[i][1] > n.peakTree) n.peakParts = lastParts.get(n.child.pid) ?? "";
        n.peakTree = Math.max(n.peakTree, now[i][1]);
      });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

/** Writes `mib` MiB of random bytes to `path`; returns their SHA-256. */
export async function randomFile(path: string, mib: number): Promise<string> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  const h = createHash("sha256");
  const buf = new Uint8Array(4 * MiB);
  for (let left = mib * MiB; left > 0;) {
    const n = Math.min(left, buf.length);
    for (let o = 0; o < n; o += 65536) crypto.getRandomValues(buf.subarray(o, Math.min(n, o + 65536)));
    h.update(buf.subarray(0, n));
    let off = 0;
    while (off < n) off += await f.write(buf.subarray(off, n));
    left -= n;
  }
  f.close();
  return h.digest("hex");
}

export async function fileSha(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of (await Deno.open(path)).readable) h.update(c);
  return h.digest("hex");
}

interface View {
  id: string;
  resumed_from?: number;
  status: string;
  bytes: number;
  size: number | null;
  error: string | null;
}

async function downloadAndWait(to: BenchNode, name: string, from: string, onPoll?: (t: View) => Promise<void>) {
  const r = await to.call<{ transfer: string; Download: { Err?: string } }>({
    Download: { name, target: from, is_requestor: true },
  });
  if (r.Download.Err) throw new Error(r.Download.Err);
  return await waitDone(to, r.transfer, onPoll);
}

async function waitDone(node: BenchNode, id: string, onPoll?: (t: View) => Promise<void>): Promise<View> {
  while (true) {
    const { Transfers } = await node.call<{ Transfers: View[] }>("Transfers");
    const t = Transfers.find((x) => x.id === id);
    if (t?.status === "done") return t;
    if (t?.status === "failed" || t?.status === "cancelled") throw new Error(`transfer ${id}: ${t.error}`);
    if (t && onPoll) await onPoll(t);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------- scp

class Sshd {
  private child: Deno.ChildProcess | null = null;
  readonly port = freePort();
  constructor(readonly dir: string) {}

  async start() {
    if (!exists("/usr/sbin/sshd") || !exists("/usr/bin/scp")) {
      throw new Error("scp baseline needs OpenSSH: apt-get install -y openssh-server openssh-client");
    }
    const d = this.dir;
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${d}/host_key`]);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${d}/client_key`]);
    await Deno.copyFile(`${d}/client_key.pub`, `${d}/authorized_keys`);
    await Deno.chmod(`${d}/authorized_keys`, 0o600);
    await Deno.writeTextFile(
      `${d}/sshd_config`,
      [
        `Port ${this.port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${d}/host_key`,
        `AuthorizedKeysFile ${d}/authorized_keys`,
        `PidFile ${d}/sshd.pid`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        "PermitRootLogin yes",
        "StrictModes no",
        "UsePAM no",
        "Subsystem sftp internal-sftp",
        "Ciphers chacha20-poly1305@openssh.com,aes128-gcm@openssh.com",
      ].join("\n") + "\n",
    );
    await Deno.mkdir("/run/sshd", { recursive: true }).catch(() => {});
    this.child = new Deno.Command("/usr/sbin/sshd", {
      args: ["-D", "-e", "-f", `${d}/sshd_config`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    for (let i = 0; i < 100; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port })).close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error("sshd did not start listening");
  }

  /** Milliseconds to copy `src` to `dst` over loopback with `cipher`. */
  async scp(cipher: string, src: string, dst: string): Promise<number> {
    const t0 = performance.now();
    await run("scp", [
      "-q",
      "-c",
      cipher,
      "-P",
      String(this.port),
      "-i",
      `${this.dir}/client_key`,
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      src,
      `${Deno.env.get("USER") ?? "root"}@127.0.0.1:${dst}`,
    ]);
    return performance.now() - t0;
  }

  async stop() {
    try {
      this.child?.kill("SIGTERM");
    } catch { /* gone */ }
    await this.child?.status;
    await this.child?.stderr.cancel().catch(() => {});
  }
}

async function run(cmd: string, args: string[]) {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(r.stderr)}`);
}

// ---------------------------------------------------------------- the bench

export async function transferBench(): Promise<Row[]> {
  const mib = sizeMiB();
  const say = (s: string) => console.error(`transfer: ${s}`);
  await buildPackage(PKG_DIR, { onlyIfStale: true });
  const chain = await startChain();
  const chainPort = chain.port;
  const tmp = await Deno.makeTempDir({ prefix: "hyperdeno-ftbench-" });
  const a = new BenchNode("fake.dev", `${tmp}/a`, chainPort);
  const b = new BenchNode("fake2.dev", `${tmp}/b`, chainPort);
  const sshd = new Sshd(await Deno.makeTempDir({ prefix: "hyperdeno-ftbench-ssh-" }));
  const rows: Row[] = [];
  try {
    await Promise.all([a.start(), b.start()]);
    await a.install();
    await b.install();
    say(`writing ${mib} MiB of random bytes`);
    const src = `${b.home}/vfs/${DRIVE}/big.bin`;
    const sha = await randomFile(src, mib);
    await linked(a, b);

    say(`downloading ${mib} MiB fake2.dev → fake.dev`);
    const idle = await treeRss([a.child.pid, b.child.pid]);
    a.peakRss =
      b.peakRss =
      a.peakTree =
      b.peakTree =
        0;
    const stopSampling = sampleRss([a, b]);
    const profilers = PROFILE ? [new Profiler(a.inspect), new Profiler(b.inspect)] : [];
    for (const p of profilers) await p.start();
    const bigChildren = PROFILE ? await profileChildren([a, b]) : [];
    if (PROFILE) {
      const idle0 = await treeCpu([a.child.pid, b.child.pid]);
      await new Promise((r) => setTimeout(r, 3000));
      say("idle for 3 s before the download:");
      for (const line of usedBetween(idle0, await treeCpu([a.child.pid, b.child.pid]))) say(`  ${line}`);
    }
    const cpu0 = PROFILE ? await treeCpu([a.child.pid, b.child.pid]) : new Map();
    const busy0 = await machineBusy();
    const t0 = performance.now();
    let memOn = PROFILE;
    const memLoop = (async () => {
      while (memOn) {
        const [ma, mb] = await Promise.all(profilers.map((p) => p.memory()));
        say(`memory MiB: receiver ${JSON.stringify(ma)} provider ${JSON.stringify(mb)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await downloadAndWait(a, "big.bin", "fake2.dev");
    memOn = false;
    await memLoop;
    const oursMs = performance.now() - t0;
    const oursCpu = await machineBusy() - busy0;
    await stopSampling();
    if (PROFILE) {
      const cpu1 = await treeCpu([a.child.pid, b.child.pid]);
      say(`CPU seconds during the download (receiver ${a.child.pid}, provider ${b.child.pid}):`);
      for (const line of usedBetween(cpu0, cpu1)) say(`  ${line}`);
      say(`receiver's main thread:\n${await profilers[0].stop()}`);
      say(`provider's main thread:\n${await profilers[1].stop()}`);
      for (const [label, p] of bigChildren) say(`${label}:\n${await p.stop(15)}`);
    }
    const stats = async (n: BenchNode) =>
      JSON.stringify(
        (await n.call<{ Transfers: (View & { stats?: unknown; name: string })[] }>("Transfers"))
          .Transfers.find((t) => t.name === "big.bin")?.stats,
      );
    say(`receiver's time: ${await stats(a)}; sender's: ${await stats(b)}`);
    const dst = `${a.home}/vfs/${DRIVE}/big.bin`;
    if (await fileSha(dst) !== sha) throw new Error("the downloaded file's SHA-256 differs from the source's");
    say(`${(oursMs / 1000).toFixed(2)} s; at their peaks: ${a.name} ${a.peakParts}; ${b.name} ${b.peakParts}`);

    if (BIG_ONLY) {
      say(`machine CPU during the download: ${oursCpu.toFixed(2)} CPU-s`);
      return rows;
    }
    if (!PROFILE_MANY) {
      say("scp baselines");
      await sshd.start();
      const scpMs: Record<string, number> = {};
      const scpCpu: Record<string, number> = {};
      for (const cipher of ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"]) {
        const times = [], cpus = [];
        for (let i = 0; i < 2; i++) {
          const b0 = await machineBusy();
          times.push(await sshd.scp(cipher, src, `${sshd.dir}/copy.bin`));
          cpus.push(await machineBusy() - b0);
          await Deno.remove(`${sshd.dir}/copy.bin`).catch(() => {});
        }
        scpMs[cipher] = Math.min(...times);
        scpCpu[cipher] = Math.min(...cpus);
      }
      const rate = (ms: number) => mib / (ms / 1000);
      const ours = rate(oursMs);
      for (const [cipher, ms] of Object.entries(scpMs)) {
        const target = cipher.startsWith("chacha") ? 1.5 : 0;
        rows.push({
          name: `${mib} MiB download fake2.dev → fake.dev, end to end, SHA-256 verified, vs scp -c ${
            cipher.split("@")[0]
          }`,
          ours: `${fmt(ours)} MiB/s (${(oursMs / 1000).toFixed(2)} s)`,
          baseline: `${fmt(rate(ms))} MiB/s (${(ms / 1000).toFixed(2)} s)`,
          ratio: ours / rate(ms),
          target: target ? `≥ ${target}×` : "report",
          pass: target ? ours / rate(ms) >= target : true,
        });
      }
      // The machine's cores carry both ends of either copy: CPU per GiB bounds what the rate can be.
      const perGiB = (cpu: number) => cpu / (mib / 1024);
      const chachaCpu = scpCpu["chacha20-poly1305@openssh.com"];
      rows.push({
        name: `machine CPU-seconds per GiB moved (both ends, every core), ours vs scp -c chacha20-poly1305`,
        ours: `${perGiB(oursCpu).toFixed(2)} CPU-s/GiB`,
        baseline: `${perGiB(chachaCpu).toFixed(2)} CPU-s/GiB (of ${navigator.hardwareConcurrency} cores × ${
          (scpMs["chacha20-poly1305@openssh.com"] / 1000).toFixed(2)
        } s)`,
        ratio: oursCpu / chachaCpu,
        target: "report",
        pass: true,
      });
      for (const [label, n, i] of [["fake.dev (receiver)", a, 0], ["fake2.dev (provider)", b, 1]] as const) {
        rows.push({
          name: `peak RSS of ${label} during the download: the node's process (its process hosts with it)`,
          ours: `${fmt(n.peakRss / MiB)} MiB (${fmt(n.peakTree / MiB)} MiB)`,
          baseline: `${fmt(idle[i][0] / MiB)} MiB (${fmt(idle[i][1] / MiB)} MiB) idle before it`,
          ratio: n.peakRss / idle[i][0],
          target: "< 200 MB",
          pass: n.peakRss < 200e6,
        });
      }

      say("chunk sizes: 128 MiB downloads, interleaved");
      const sweepSrc = `${b.home}/vfs/${DRIVE}/sweep.bin`;
      await randomFile(sweepSrc, 128);
      const sizes = [256 * 1024, MiB, 4 * MiB];
      const sweep = new Map<number, number[]>(sizes.map((c) => [c, []]));
      for (let round = 0; round < 2; round++) {
        for (const chunk of sizes) {
          await Deno.remove(`${a.home}/vfs/${DRIVE}/sweep.bin`).catch(() => {});
          const t = performance.now();
          const r = await a.call<{ transfer: string }>({
            Download: { name: "sweep.bin", target: "fake2.dev", is_requestor: true, chunk },
          });
          await waitDone(a, r.transfer);
          sweep.get(chunk)!.push(performance.now() - t);
        }
      }
      const best = (c: number) => 128 / (Math.min(...sweep.get(c)!) / 1000);
      for (const chunk of sizes) {
        rows.push({
          name: `chunk size ${chunk / 1024} KiB (window ≥ 16 MiB): 128 MiB download, best of 2, against 4 MiB chunks`,
          ours: `${fmt(best(chunk))} MiB/s`,
          baseline: `${fmt(best(4 * MiB))} MiB/s`,
          ratio: best(chunk) / best(4 * MiB),
          target: "report",
          pass: true,
        });
      }
    }
    say(`resume: cutting a ${mib} MiB download at 50%`);
    await Deno.remove(dst);
    let cut = false;
    const r = await a.call<{ transfer: string }>({
      Download: { name: "big.bin", target: "fake2.dev", is_requestor: true },
    });
    await waitUntil(a, r.transfer, (t) => t.size !== null && t.bytes >= t.size / 2);
    await b.kill();
    cut = true;
    await b.start();
    // From the provider's return to the verified file: the receiver notices the silence, retries and resumes.
    const t2 = performance.now();
    let movedMs = 0;
    const done = await waitDone(a, r.transfer, (t) => {
      if (!movedMs && t.status === "active" && (t.resumed_from ?? 0) > 0) movedMs = performance.now() - t2;
      return Promise.resolve();
    });
    const resumeMs = performance.now() - t2;
    const from = done.resumed_from ?? 0;
    if (!cut || from === 0) throw new Error("the download started over instead of resuming");
    if (await fileSha(dst) !== sha) throw new Error("the resumed file's SHA-256 differs from the source's");
    rows.push({
      name: `resume a ${mib} MiB download cut at 50% (provider SIGKILLed, restarted): its return → verified file`,
      ours: `${(resumeMs / 1000).toFixed(2)} s (moving again after ${(movedMs / 1000).toFixed(2)} s, from ${
        fmt(from / MiB)
      } MiB)`,
      baseline: `${(oursMs / 1000).toFixed(2)} s whole download`,
      ratio: resumeMs / oursMs,
      target: "report",
      pass: true,
    });
  } finally {
    await sshd.stop().catch(() => {});
    await a.stop().catch(() => {});
    await b.stop().catch(() => {});
    await chain.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.remove(sshd.dir, { recursive: true }).catch(() => {});
  }
  return rows;
}

async function waitUntil(node: BenchNode, id: string, pred: (t: View) => boolean) {
  while (true) {
    const { Transfers } = await node.call<{ Transfers: View[] }>("Transfers");
    const t = Transfers.find((x) => x.id === id);
    if (t && pred(t)) return;
    if (t?.status === "failed") throw new Error(`transfer ${id}: ${t.error}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
