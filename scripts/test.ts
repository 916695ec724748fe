/**
 * `deno task test [files or folders] [deno test flags, e.g. --filter x]`: the test files (default: tests/), each in
 * a `deno test` process of its own, DENO_JOBS of them at a time (default: the machine's cores and one more). A
 * file's output is printed whole when it ends, then a table of the files' times and deno's summary line over all of
 * them.
 *
 * Not `deno test --parallel`: that runs the files on threads of one process, and tests measure their process (RSS
 * grown during a 1 GiB upload, open descriptors, CPU ticks after a kill), which another file's work would move.
 */
import { TEST_FLAGS as FLAGS } from "../cli/run_args.ts";

/**
 * The longest files start first, so that the short ones fill the other jobs' time at the end (names not here run
 * after these, in order). Measured on 2 cores, three files at a time (wall times of a CI run, 2026-12-07, after the
 * check cache stopped depending on the runtime's folder); a file missing from the list only runs later than it could.
 */
const LONGEST_FIRST = [
  "ft_faults_test.ts",
  "kill9_durability_test.ts",
  "ft_sendget_test.ts",
  "kit_run_tests_test.ts",
  "ftui_browser_test.ts",
  "registry_durability_test.ts",
  "kit_ui_template_test.ts",
  "ft_limits_test.ts",
  "appstore_e2e_test.ts",
  "kit_build_test.ts",
  "ft_happy_test.ts",
  "host_sandbox_test.ts",
  "modules_limits_test.ts",
  "kit_compile_test.ts",
  "node_test.ts",
  "kit_dev_ui_test.ts",
  "ft_polish_test.ts",
  "listeners_attack_test.ts",
  "host_pool_test.ts",
  "watchdog_load_test.ts",
  "sandbox_escape_test.ts",
  "register_browser_test.ts",
];

interface Result {
  file: string;
  ms: number;
  /** CPU time of the file's `deno test` and every child it waited for (Linux), else null. */
  cpuMs: number | null;
  code: number;
  passed: number;
  failed: number;
  ignored: number;
  /** For a failed file, the lines that say why (see whyFailed). */
  why?: string;
}

function testFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (Deno.statSync(p).isFile) {
      files.push(p);
      continue;
    }
    for (const e of Deno.readDirSync(p)) {
      if (e.isFile && /(^|[._])test\.[mc]?[jt]sx?$/.test(e.name)) files.push(`${p.replace(/\/$/, "")}/${e.name}`);
    }
  }
  const rank = (f: string) => {
    const i = LONGEST_FIRST.indexOf(f.slice(f.lastIndexOf("/") + 1));
    return i < 0 ? LONGEST_FIRST.length : i;
  };
  return files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** deno test's last line, e.g. "ok | 3 passed (2 steps) | 0 failed | 1 ignored (3s)". */
function counts(output: string): Pick<Result, "passed" | "failed" | "ignored"> | null {
  // deno-lint-ignore no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const line = plain.split("\n").findLast((l) => /^(ok|FAILED) \| \d+ passed/.test(l));
  if (!line) return null;
  const n = (what: string) => Number(line.match(new RegExp(`(\\d+) ${what}`))?.[1] ?? 0);
  return { passed: n("passed"), failed: n("failed"), ignored: n("ignored") };
}

/**
 * Why a file failed, in at most `max` lines: deno test's ERRORS section (each failed test, its error and the top of
 * its stack), else the output's last lines (the file did not reach its summary). Printed again beside the suite's
 * summary, because a CI page that shows only the end of a long log must still say what broke.
 */
function whyFailed(output: string, max = 24): string {
  // deno-lint-ignore no-control-regex
  const lines = output.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  const start = lines.findIndex((l) => l.trim() === "ERRORS");
  let picked = start < 0 ? lines.filter((l) => l.trim()).slice(-max) : lines.slice(start + 1);
  const end = picked.findIndex((l) => l.trim() === "FAILURES");
  if (end >= 0) picked = picked.slice(0, end);
  picked = picked.filter((l) => l.trim() && !/^\s+at .*(ext:|deno:|node:)/.test(l));
  return (picked.length > max
    ? [...picked.slice(0, max), `  … (${picked.length - max} more in its output above)`]
    : picked)
    .map((l) => `    ${l}`).join("\n");
}

/**
 * On Linux, each file runs under a shell that, once `deno test` has ended, prints its own children's
 * CPU time (utime and stime of the children it waited for, which include theirs): the CPU a file costs, the suite's
 * real budget on a machine of few cores.
 */
const CPU_OF_CHILD = Deno.build.os === "linux"
  ? '"$@"; rc=$?; read -r s < /proc/$$/stat; echo "${s##*) }" | { read -r _ _ _ _ _ _ _ _ _ _ _ _ _ cu cs _; ' +
    'echo "__test_cpu_ticks $((cu + cs)) $(getconf CLK_TCK)" >&2; }; exit $rc'
  : null;

/** The output without the CPU line, and the CPU it gave (ms). */
function cpuOf(output: string): { text: string; cpuMs: number | null } {
  const m = output.match(/\n?__test_cpu_ticks (\d+) (\d+)\n?/);
  if (!m) return { text: output, cpuMs: null };
  return { text: output.replace(m[0], "\n"), cpuMs: Number(m[1]) * 1000 / Number(m[2]) };
}

const seconds = (ms: number) => {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
};

const args: string[] = [], flags: string[] = [];
for (let i = 0; i < Deno.args.length; i++) {
  const a = Deno.args[i];
  if (!a.startsWith("-")) args.push(a);
  else if (a === "--filter") flags.push(a, Deno.args[++i]); // the one flag with a value that tests are run with
  else flags.push(a);
}
const files = testFiles(args.length ? args : ["tests/"]);
// One more than the cores: a file spends about a third of its time waiting (on timers, a peer, the browser), and on
// 2 cores the third job took the suite from 10m47s to 10m16s (2026-12-07).
const jobs = Math.max(1, Number(Deno.env.get("DENO_JOBS")) || navigator.hardwareConcurrency + 1);
const running = new Set<Deno.ChildProcess>();
Deno.addSignalListener("SIGINT", () => {
  for (const c of running) c.kill("SIGINT");
  Deno.exit(130);
});

console.log(`${files.length} test files, ${jobs} at a time (DENO_JOBS)`);
const started = performance.now();
const results: Result[] = [];
const queue = [...files];
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, async () => {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const t0 = performance.now();
    const child = new Deno.Command(CPU_OF_CHILD ? "sh" : Deno.execPath(), {
      args: CPU_OF_CHILD
        ? ["-c", CPU_OF_CHILD, "sh", Deno.execPath(), "test", ...FLAGS, ...flags, file]
        : ["test", ...FLAGS, ...flags, file],
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
    }).spawn();
    running.add(child);
    const out = await child.output();
    running.delete(child);
    const { text, cpuMs } = cpuOf(new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr));
    const c = counts(text) ?? { passed: 0, failed: 1, ignored: 0 }; // no summary: the file itself failed
    const r: Result = { file, ms: performance.now() - t0, cpuMs, code: out.code, ...c };
    if (r.code !== 0 && r.failed === 0) r.failed = 1;
    if (r.failed) r.why = whyFailed(text);
    results.push(r);
    console.log(`──── ${file} (${seconds(r.ms)}, exit ${r.code})\n${text.trimEnd()}\n`);
  }
}));

const total = performance.now() - started;
const cpuTotal = results.reduce((a, r) => a + (r.cpuMs ?? 0), 0);
const cpuKnown = results.every((r) => r.cpuMs !== null);
console.log(cpuKnown ? "time per file (wall, then CPU of its process tree):" : "time per file (wall):");
for (const r of results.toSorted((a, b) => b.ms - a.ms)) {
  const cpu = cpuKnown ? `${seconds(r.cpuMs!).padStart(6)}  ` : "";
  console.log(`  ${seconds(r.ms).padStart(6)}  ${cpu}${r.failed ? "FAILED" : "ok    "}  ${r.file}`);
}
const sum = (k: "passed" | "failed" | "ignored") => results.reduce((a, r) => a + r[k], 0);
const failedFiles = results.filter((r) => r.failed).map((r) => r.file);
for (const r of results.filter((r) => r.why)) {
  console.log(`why ${r.file} failed (its whole output is above):\n${r.why}`);
}
if (failedFiles.length) console.log(`failed in: ${failedFiles.join(", ")}`);
const ignored = sum("ignored") ? ` | ${sum("ignored")} ignored` : "";
console.log(
  `${failedFiles.length ? "FAILED" : "ok"} | ${sum("passed")} passed | ${sum("failed")} failed${ignored} (${
    seconds(total)
  }${cpuKnown ? `, ${seconds(cpuTotal)} CPU` : ""})`,
);
Deno.exit(failedFiles.length ? 1 : 0);
