/**
 * `deno task bench many`: many small files at once. fake.dev downloads N
 * files of 1 MiB from fake2.dev (nodes in their own OS processes, loopback
 * TCP), all requested at once, each SHA-256 verified, timed from the first
 * request to the last file done; against curl fetching the same N files at
 * once (`--parallel`) from a bare HTTP file server (file_server.ts), in the
 * same run. Besides the wall-clock time, the CPU-seconds each side used: the
 * two nodes' process trees (their process hosts with them), and curl plus
 * the server's; the benchmark's own process is in neither.
 *
 * The wait asks the file-transfer process for its Counts (api/types.ts), as
 * any tool that starts downloads can: it does not depend on how many
 * finished transfers the Transfers list keeps.
 *
 * FT_BENCH_MANY sets the counts (default "100,500"); FT_BENCH_PROFILE=many
 * prints each process's CPU-seconds and both nodes' V8 profiles.
 */
import { startChain } from "../../runtime/testing.ts";
import { buildPackage } from "../../runtime/packages/build.ts";
import type { TransferCounts } from "../../packages/file-transfer/api/types.ts";
import { BenchNode, fileSha, freePort, linked, randomFile } from "./transfer.ts";
import { type ProcUse, Profiler, treeCpu, usedBetween } from "./profile.ts";
import type { Row } from "./util.ts";

const PKG_DIR = new URL("../../packages/file-transfer", import.meta.url).pathname;
const DRIVE = "file-transfer:template.os/files";
const FOLDER = "many";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
const PROFILE = env("FT_BENCH_PROFILE") === "many";
const COUNTS = (env("FT_BENCH_MANY") ?? "100,500").split(",").map(Number).filter((n) => n > 0);
/** The target for 100 files at once, in seconds (issue 20). */
const TARGET_100_S = 3;
/** Download requests in flight over HTTP at once. */
const REQUESTS_AT_ONCE = 8;

const say = (s: string) => console.error(`many: ${s}`);
const fileName = (i: number) => `${FOLDER}/s${String(i).padStart(4, "0")}.bin`;

interface Run {
  ms: number;
  cpu: number;
}

/** CPU-seconds of every process in `use`. */
function cpuOf(use: Map<number, ProcUse>): Map<number, number> {
  return new Map([...use].map(([pid, u]) => [pid, u.cpu]));
}

/** What the processes of `roots`' trees used from `before` to now (processes gone meanwhile are not counted). */
async function cpuSince(roots: number[], before: Map<number, number>): Promise<number> {
  let sum = 0;
  for (const [pid, u] of await treeCpu(roots)) sum += u.cpu - (before.get(pid) ?? 0);
  return sum;
}

/** The baseline: curl fetches files 0..n-1 at once from the file server into `into`. */
async function curlMany(server: { port: number; pid: number }, n: number, into: string): Promise<Run> {
  await Deno.remove(into, { recursive: true }).catch(() => {});
  await Deno.mkdir(into, { recursive: true });
  const args = ["--silent", "--fail", "--parallel", "--parallel-max", String(n)];
  for (let i = 0; i < n; i++) args.push("-o", `${into}/${i}.bin`, `http://127.0.0.1:${server.port}/${fileName(i)}`);
  const s0 = cpuOf(await treeCpu([server.pid]));
  const t0 = performance.now();
  // The shell reports what its waited-for child (curl) used: its own stat's cutime and cstime.
  const out = await new Deno.Command("sh", {
    args: ["-c", 'curl "$@" || exit 1; cat /proc/$$/stat', "sh", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (!out.success) throw new Error(`curl failed: ${new TextDecoder().decode(out.stderr)}`);
  const stat = new TextDecoder().decode(out.stdout);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const curlCpu = (Number(f[13]) + Number(f[14])) / 100;
  return { ms, cpu: curlCpu + await cpuSince([server.pid], s0) };
}

/** Downloads done, failed and cancelled so far (Counts only grow for those). */
function ended(c: TransferCounts): { done: number; other: number } {
  return { done: c.download.done, other: c.download.failed + c.download.cancelled };
}

/** Ours: fake.dev downloads files 0..n-1 from fake2.dev, all requested at once. */
async function ftMany(a: BenchNode, b: BenchNode, n: number): Promise<Run> {
  const roots = [a.child.pid, b.child.pid];
  const before = ended((await a.call<{ Counts: TransferCounts }>("Counts")).Counts);
  const profilers = PROFILE ? [new Profiler(a.inspect), new Profiler(b.inspect)] : [];
  for (const p of profilers) await p.start();
  const use0 = await treeCpu(roots);
  const cpu0 = cpuOf(use0);
  const t0 = performance.now();
  // Requested as a script would, a few HTTP calls at a time; each is answered once the download is queued.
  const ids: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: REQUESTS_AT_ONCE }, async () => {
    for (let i = next++; i < n; i = next++) {
      const r = await a.call<{ transfer?: string; Download: { Err?: string } }>({
        Download: { name: fileName(i), target: b.name, is_requestor: true },
      });
      if (r.Download.Err !== undefined) throw new Error(`Download ${fileName(i)}: ${r.Download.Err}`);
      ids[i] = r.transfer!;
    }
  }));
  while (true) {
    // A node this loaded may not answer in time: the downloads go on (and resume should a process restart).
    const counts = await a.call<{ Counts: TransferCounts }>("Counts").catch((e) => {
      say(`  Counts: ${e.message}; asking again`);
      return null;
    });
    if (!counts) continue;
    const now = ended(counts.Counts);
    if (now.other > before.other) {
      const { Status } = await a.call<{ Status: Record<string, string | null> }>({ Status: { ids } });
      throw new Error(`downloads ended other than done: ${JSON.stringify(Status)}`);
    }
    if (now.done - before.done >= n) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const ms = performance.now() - t0;
  const cpu = await cpuSince(roots, cpu0);
  if (PROFILE) {
    for (const line of usedBetween(use0, await treeCpu(roots))) say(`  ${line}`);
    say(`receiver's main thread:\n${await profilers[0].stop(40)}`);
    say(`provider's main thread:\n${await profilers[1].stop(40)}`);
  }
  const { Status } = await a.call<{ Status: Record<string, string | null> }>({ Status: { ids } });
  const notDone = Object.entries(Status).filter(([, s]) => s !== "done");
  if (notDone.length) throw new Error(`Counts said all were done; Status says otherwise: ${notDone.slice(0, 5)}`);
  return { ms, cpu };
}

export async function transferManyBench(): Promise<Row[]> {
  const most = Math.max(...COUNTS);
  await buildPackage(PKG_DIR, { onlyIfStale: true });
  const chain = await startChain();
  const tmp = await Deno.makeTempDir({ prefix: "hyperdeno-ftmany-" });
  const a = new BenchNode("fake.dev", `${tmp}/a`, chain.port);
  const b = new BenchNode("fake2.dev", `${tmp}/b`, chain.port);
  let server: Deno.ChildProcess | null = null;
  const rows: Row[] = [];
  try {
    await Promise.all([a.start(), b.start()]);
    await a.install();
    await b.install();
    await linked(a, b);
    say(`writing ${most} files of 1 MiB`);
    const shas: string[] = [];
    for (let i = 0; i < most; i++) shas.push(await randomFile(`${b.home}/vfs/${DRIVE}/${fileName(i)}`, 1));

    const port = freePort();
    server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-read=${b.home}/vfs/${DRIVE}`,
        "--allow-net=127.0.0.1",
        new URL("./file_server.ts", import.meta.url).pathname,
        `${b.home}/vfs/${DRIVE}`,
        String(port),
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = server.stdout.getReader();
    await reader.read(); // "listening"
    reader.releaseLock();
    const http = { port, pid: server.pid };

    for (const n of COUNTS) {
      say(`${n} files: curl --parallel from a file server`);
      const base = await curlMany(http, n, `${tmp}/curl`);
      say(`  ${(base.ms / 1000).toFixed(2)} s, ${base.cpu.toFixed(2)} CPU-s`);
      say(`${n} files: fake2.dev → fake.dev`);
      await Deno.remove(`${a.home}/vfs/${DRIVE}/${FOLDER}`, { recursive: true }).catch(() => {});
      const ours = await ftMany(a, b, n);
      say(`  ${(ours.ms / 1000).toFixed(2)} s, ${ours.cpu.toFixed(2)} CPU-s`);
      for (let i = 0; i < n; i++) {
        if (await fileSha(`${a.home}/vfs/${DRIVE}/${fileName(i)}`) !== shas[i]) {
          throw new Error(`${fileName(i)}: the downloaded file's SHA-256 differs from the source's`);
        }
      }
      const target = n === 100 ? `≤ ${TARGET_100_S} s` : "report";
      rows.push({
        name: `${n} concurrent 1 MiB downloads, SHA-256 verified, vs curl --parallel from a bare HTTP file server`,
        ours: `${(ours.ms / 1000).toFixed(2)} s`,
        baseline: `${(base.ms / 1000).toFixed(2)} s`,
        ratio: ours.ms / base.ms,
        target,
        pass: n === 100 ? ours.ms <= TARGET_100_S * 1000 : true,
      });
      rows.push({
        name: `${n} concurrent 1 MiB downloads: CPU-seconds of both nodes' process trees vs curl and the server`,
        ours: `${ours.cpu.toFixed(2)} CPU-s (${(ours.cpu / n * 1000).toFixed(0)} ms a file)`,
        baseline: `${base.cpu.toFixed(2)} CPU-s`,
        ratio: ours.cpu / base.cpu,
        target: "report",
        pass: true,
      });
    }
  } finally {
    try {
      server?.kill("SIGTERM");
    } catch { /* gone */ }
    await server?.status;
    await a.stop().catch(() => {});
    await b.stop().catch(() => {});
    await chain.stop();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return rows;
}
