/**
 * Process hosts: a package whose thread cannot be stopped (an endless
 * synchronous loop, a heap exhausted in synchronous code) is stopped by
 * ending its package's host process; its siblings get their OnExit, and
 * other packages never notice. CPU and processes are read from /proc through
 * a shell (Deno wants --allow-all to read /proc itself).
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNode, inject, injectJson, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { childHosts, FIXTURES, sh } from "./helpers.ts";
import { frame, FrameReader } from "../runtime/host/pipe.ts";
import { checkControl } from "../runtime/kernel/host_process.ts";
import { deserialize } from "node:v8";

const SPINNER = "spinner:host-stuck:test.os";
const HOG = "hog:host-stuck:test.os";
const SIBLING = "sibling:host-stuck:test.os";
const READER = "reader:host-stuck:test.os";
const CALM = "calm:host-calm:test.os";
const STUCK_PKG = "host-stuck:test.os";
const CALM_PKG = "host-calm:test.os";

/** CPU clock ticks (user + system) all threads of `pid` have used, or null once it is gone. */
async function cpuTicks(pid: number): Promise<number | null> {
  const out = await sh(`cat /proc/$0/task/*/stat 2>/dev/null`, String(pid));
  if (!out.trim()) return null;
  let ticks = 0;
  for (const line of out.trim().split("\n")) {
    const f = line.slice(line.lastIndexOf(")") + 2).split(" ");
    ticks += Number(f[11]) + Number(f[12]); // utime and stime: fields 14 and 15
  }
  return ticks;
}

/** Ticks this process and all its children used over `ms`. */
async function ticksOver(ms: number, pids: () => number[] | Promise<number[]>): Promise<number> {
  const sum = async (ps: number[]) => (await Promise.all(ps.map(cpuTicks))).reduce<number>((a, t) => a + (t ?? 0), 0);
  const ps = await pids();
  const a = await sum(ps);
  await new Promise((r) => setTimeout(r, ms));
  return await sum(ps) - a;
}

async function withHosts(f: (n: TestNode) => Promise<void>, opts: { processHeapMb?: number } = {}) {
  const n = await bootNode({ ...opts, sandbox: "processes" });
  try {
    await install(n, `${FIXTURES}host_stuck`);
    await install(n, `${FIXTURES}host_calm`);
    await f(n);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
}

async function started(n: TestNode, process: string): Promise<number> {
  return (await injectJson<{ started: number }>(n, process, "hi")).started;
}

/** The package's other processes restarted (in a new host), and the other package never noticed. */
async function siblingsRestartedCalmUntouched(
  n: TestNode,
  before: { sibling: number; calm: number; calmPid: number; stuckPid: number },
) {
  await waitFor(
    "the sibling restarts",
    async () => (await started(n, SIBLING).catch(() => 0)) > before.sibling,
    15_000,
  );
  const hosts = n.kernel.hostPids();
  assert(hosts.get(STUCK_PKG) !== before.stuckPid, "the package runs in a new host");
  assertEquals(hosts.get(CALM_PKG), before.calmPid, "the other package keeps its host");
  assertEquals(await started(n, CALM), before.calm, "the other package's process never restarted");
  assertEquals(n.kernel.status(CALM).restarts, 0);
}

async function snapshot(n: TestNode) {
  const sibling = await started(n, SIBLING), calm = await started(n, CALM);
  const hosts = n.kernel.hostPids();
  assert((await childHosts()).includes(hosts.get(STUCK_PKG)!), "the kernel names a live child process");
  assert(hosts.has(STUCK_PKG) && hosts.has(CALM_PKG), `a host per package: ${JSON.stringify([...hosts])}`);
  return { sibling, calm, calmPid: hosts.get(CALM_PKG)!, stuckPid: hosts.get(STUCK_PKG)! };
}

Deno.test("host: a process killed inside for(;;){} stops burning CPU; its siblings restart, other packages never notice", () =>
  withHosts(async (n) => {
    const before = await snapshot(n);
    assertEquals(await injectJson(n, SPINNER, "spin"), "spinning");
    await new Promise((r) => setTimeout(r, 300));
    // Its share of a core is what a busy machine leaves it; an idle host uses under 1 tick in 2 s.
    const busy = await ticksOver(2000, () => [before.stuckPid]);
    assert(busy >= 10, `the spinner burns CPU (${busy} ticks in 2 s)`);

    assertEquals(n.kernel.killProcess(SPINNER), true);
    await waitFor("the stuck host ends", async () => await cpuTicks(before.stuckPid) === null, 10_000);
    await siblingsRestartedCalmUntouched(n, before);
    // Nothing of the node (its own threads or any child) keeps a core busy.
    await new Promise((r) => setTimeout(r, 500));
    const after = await ticksOver(2000, async () => [Deno.pid, ...await childHosts()]);
    assert(after < 100, `the node and its hosts used ${after} ticks in 2 s after the kill (a spinning core: 200)`);
    assertEquals(n.kernel.status(SPINNER).running, false);
    assertMatch(n.lines.join("\n"), /process host of package host-stuck:test\.os .* ended: .*stuck/);
  }));

Deno.test("host: a sibling blocked for good, which never answers a ping, does not shelter a spinner that was killed", () =>
  withHosts(async (n) => {
    const before = await snapshot(n);
    assertEquals(await injectJson(n, HOG, "block"), "blocking");
    assertEquals(await injectJson(n, SPINNER, "spin"), "spinning");
    await new Promise((r) => setTimeout(r, 300));
    // The verdict on a killed thread waits for every other thread to answer a ping; the blocked one never will, and
    // the spinner keeps the host busy (so the blocked one is never found silent): the host's CPU alone decides.
    assertEquals(n.kernel.killProcess(SPINNER), true);
    await waitFor("the stuck host ends", async () => await cpuTicks(before.stuckPid) === null, 60_000);
    assertMatch(n.lines.join("\n"), /process host of package host-stuck:test\.os .* ended: .*stuck/);
    await siblingsRestartedCalmUntouched(n, before);
  }));

Deno.test("host: a process blocked for good (Atomics.wait) is found, its host ended, its package restarted", () =>
  withHosts(async (n) => {
    const before = await snapshot(n);
    const restarts = n.kernel.status(SPINNER).restarts;
    assertEquals(await injectJson(n, SPINNER, "block"), "blocking");
    const t0 = performance.now();
    await waitFor("the blocked process restarts", () => n.kernel.status(SPINNER).restarts > restarts, 15_000);
    assert(performance.now() - t0 < 10_000, "found within seconds");
    assertMatch(n.kernel.status(SPINNER).last_error ?? "", /stuck: its thread stopped answering/);
    await siblingsRestartedCalmUntouched(n, before);
    assertEquals(await cpuTicks(before.stuckPid), null, "the old host is gone");
  }));

Deno.test("host: a heap exhausted in one synchronous loop is a crash (Offline, restart), not a Timeout", () =>
  withHosts(async (n) => {
    const before = await snapshot(n);
    const restarts = n.kernel.status(HOG).restarts;
    const t0 = performance.now();
    const r = await inject(n, HOG, '"oomSync"', { timeout: 30 });
    assertEquals(r.error, "Offline", "the requester hears its target died, not a timeout");
    assert(performance.now() - t0 < 15_000, `failed after ${performance.now() - t0} ms`);
    await waitFor("the hog restarts", () => n.kernel.status(HOG).restarts > restarts && n.kernel.status(HOG).running);
    assertMatch(n.kernel.status(HOG).last_error ?? "", /memory limit/);
    assertEquals(await injectJson(n, HOG, "hi"), "hog here");
    // Its code was stopped and its thread ended alone: the rest of its package did not notice either.
    assertEquals(await started(n, SIBLING), before.sibling);
    assertEquals(n.kernel.hostPids().get(STUCK_PKG), before.stuckPid);
    assertEquals(await started(n, CALM), before.calm);
  }, { processHeapMb: 64 }));

Deno.test("host: a process host killed from outside = its processes restart in a new one; other packages never notice", () =>
  withHosts(async (n) => {
    const before = await snapshot(n);
    Deno.kill(before.stuckPid, "SIGKILL");
    await siblingsRestartedCalmUntouched(n, before);
    assertEquals(await injectJson(n, HOG, "hi"), "hog here");
    assertMatch(n.lines.join("\n"), /process host of package host-stuck:test\.os .* ended/);
  }));

Deno.test("host: process code finds no way to its host's stdin or stdout", () =>
  withHosts(async (n) => {
    const probe = () =>
      injectJson<{ tried: Record<string, string>; streams: string[] }>(n, READER, "stdin").catch((e) => {
        throw new Error(`${e.message}; the reader's last error: ${n.kernel.status(READER).last_error}`);
      });
    const r = await probe();
    for (const [route, result] of Object.entries(r.tried)) {
      assert(!result.startsWith("REACHED"), `${route}: ${result}`);
    }
    assertMatch(r.tried["Deno.stdin"], /ReferenceError|TypeError/);
    assertMatch(r.tried["Function('return Deno')"], /EvalError|Code generation from strings disallowed/);
    assertEquals(r.streams, [], "no stdin, stdout, rid or read/write function reachable from the global");
    // The host still speaks its protocol: the process answers again.
    assertEquals((await probe()).tried, r.tried);
  }));

Deno.test("host: --sandbox threads runs processes in the node itself, with no child process", async () => {
  const n = await bootNode({ sandbox: "threads" });
  try {
    await install(n, `${FIXTURES}host_calm`);
    assert((await started(n, CALM)) > 0);
    assertEquals(await childHosts(), []);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

// What a process host sends is untrusted (its processes might one day escape into it): the
// kernel's reader refuses a frame over the cap before buffering it, and bytes that do not
// deserialize (here nesting deep enough to exhaust a stack) throw instead of taking the kernel down.
Deno.test("host pipe: a frame over the cap is refused from its header; hostile bytes throw; bad reports are refused", () => {
  const frames: number[] = [];
  const reader = new FrameReader(1024, (thread) => frames.push(thread));
  reader.push(frame(7, new Uint8Array(10)));
  assertEquals(frames, [7]);
  const header = frame(9, new Uint8Array(0));
  new DataView(header.buffer).setUint32(0, 2 ** 31); // claims 2 GiB
  let refused = "";
  try {
    reader.push(header);
  } catch (e) {
    refused = `${(e as Error).name}: ${(e as Error).message}`;
  }
  assertMatch(refused, /FrameTooLong: a frame of 2147483648 bytes/);

  const depth = 1_000_000, deep = new Uint8Array(3 + depth * 5);
  let o = 0;
  deep[o++] = 0xff, deep[o++] = 0x0f; // node:v8 serialization header
  for (let i = 0; i < depth; i++) deep[o++] = 0x41, deep[o++] = 1; // a dense array of one element...
  deep[o++] = 0x5f; // ...undefined, innermost
  let thrown = "";
  try {
    deserialize(deep.subarray(0, o));
  } catch (e) {
    thrown = (e as Error).name;
  }
  assert(thrown !== "", "hostile bytes throw (the kernel then ends that host)");

  assertEquals(checkControl({ t: "ended", thread: 3, error: null }), { t: "ended", thread: 3, error: null });
  for (
    const bad of [
      null,
      [],
      { t: "ended", thread: 0, error: null },
      { t: "ended", thread: 1.5, error: null },
      {
        t: "ended",
        thread: 2,
        error: { toString: 1 },
      },
      { t: "stuck", thread: 2 },
      { t: "spawn", thread: 2 },
    ]
  ) {
    assertEquals(checkControl(bad), null, JSON.stringify(bad));
  }
  assertEquals((checkControl({ t: "stuck", thread: 2, why: "x".repeat(1e6) }) as { why: string }).why.length, 16_384);
});
