/**
 * Process hosts shared by packages (runtime/kernel/host_pool.ts): many
 * packages in a few hosts all answer, after the node's restart too; a stuck
 * process takes its co-tenants down once (they restart at once and answer,
 * and its package runs in a host of its own from then on); and a package
 * cannot read another's messages or state through the host they share.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNode, injectJson, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { childHosts, FIXTURES, PACKAGES } from "./helpers.ts";

const SPINNER = "spinner:host-stuck:test.os";
const SIBLING = "sibling:host-stuck:test.os";
const CALM = "calm:host-calm:test.os";
const STUCK_PKG = "host-stuck:test.os";
const CALM_PKG = "host-calm:test.os";
const VICTIM = "victim:pool-victim:good.os";
const SNOOP = "snoop:pool-snoop:evil.os";

/** `count` copies of packages/ping, each a package of its own (`pingN:pubN.os`); their process ids. */
async function installPings(n: TestNode, count: number): Promise<string[]> {
  const dir = `${PACKAGES}ping`;
  await buildPackage(dir, { onlyIfStale: true });
  const files = readPkgDir(`${dir}/pkg`);
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    n.install(`ping${i}:pub${i}.os`, files);
    ids.push(`ping:ping${i}:pub${i}.os`);
  }
  return ids;
}

async function allAnswer(n: TestNode, processes: string[]) {
  const answers = await Promise.all(processes.map((p) => injectJson(n, p, "ping", 120).catch((e) => e.message)));
  assertEquals(answers, processes.map(() => "pong"));
}

/** Seconds a request may wait: a machine at load 70 answers in tens of seconds, and a Timeout is never the point. */
const LOADED = 60;

const distinct = (n: TestNode) => new Set(n.kernel.hostPids().values());

Deno.test("pool: twenty packages share three process hosts and every one answers, after the node's restart too", async () => {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-pool-" });
  let n = await bootNode({ home, sandbox: "processes", hosts: 3 });
  let pings: string[] = [];
  try {
    pings = await installPings(n, 20);
    await allAnswer(n, pings);
    const hosts = distinct(n);
    assertEquals(hosts.size, 3, `hosts: ${JSON.stringify([...n.kernel.hostPids()])}`);
    const children = await childHosts();
    assertEquals(children.length, 3, "no host beyond the pool's three");
    for (const pid of hosts) assert(children.includes(pid), `host ${pid} is a live child process`);
  } finally {
    await n.shutdown();
  }
  assertEquals(await childHosts(), [], "the hosts ended with their node");
  n = await bootNode({ home, sandbox: "processes", hosts: 3 });
  try {
    await allAnswer(n, pings);
    assertEquals(distinct(n).size, 3);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("pool: a process stuck in a shared host takes its co-tenants down once; they come back and answer", async () => {
  const n = await bootNode({ sandbox: "processes", hosts: 1 });
  try {
    await install(n, `${FIXTURES}host_stuck`);
    await install(n, `${FIXTURES}host_calm`);
    const pings = await installPings(n, 3);
    await allAnswer(n, pings);
    const shared = n.kernel.hostPids().get(STUCK_PKG);
    assertEquals(distinct(n), new Set([shared]), "one host holds every package");
    const calmStarted = (await injectJson<{ started: number }>(n, CALM, "hi", LOADED)).started;

    // Killed inside for(;;){}: its thread cannot be stopped, so its host is ended, co-tenants and all.
    const cpu0 = await cpuSeconds(shared!);
    assertEquals(await injectJson(n, SPINNER, "spin", LOADED), "spinning");
    // Killed once it spins: a kill that lands in the 50 ms before its loop starts races terminate() (a known gap).
    await waitFor("the spinner to burn a core", async () => await cpuSeconds(shared!) >= cpu0 + 2, 60_000);
    assertEquals(n.kernel.killProcess(SPINNER), true);
    await waitFor("the co-tenants restart", () => n.kernel.status(CALM).restarts > 0, 60_000);
    assertMatch(n.kernel.status(CALM).last_error ?? "", /ended because spinner:host-stuck:test\.os was stuck/);
    await allAnswer(n, pings);
    assert((await injectJson<{ started: number }>(n, CALM, "hi", LOADED)).started > calmStarted, "calm runs anew");
    assertMatch(
      n.lines.join("\n"),
      new RegExp(
        `process host of packages .*\\(pid ${shared}\\) ended: spinner:host-stuck:test\\.os was stuck \\(.*\\); ` +
          `it took down .*calm:host-calm:test\\.os.*; host-stuck:test\\.os runs in a process host of its own`,
      ),
    );
    assert(!/crashed: .*calm:host-calm/.test(n.lines.join("\n")), "a co-tenant taken down is not said to crash");
    await waitFor("the stuck package's other processes restart", () => n.kernel.status(SIBLING).running, 60_000);
    let hosts = n.kernel.hostPids();
    assert(hosts.get(STUCK_PKG) !== hosts.get(CALM_PKG), "the stuck package runs alone now");
    assertEquals(distinct(n).size, 2);
    assertEquals(hosts.get(CALM_PKG), hosts.get(pings[0].split(":").slice(1).join(":")), "the others share as before");

    // Stuck again (blocked for good in Atomics.wait, found silent while its host wants no CPU): only its host goes.
    await install(n, `${FIXTURES}host_stuck`);
    const calmHost = hosts.get(CALM_PKG), restarts = n.kernel.status(SPINNER).restarts;
    const calmAgain = (await injectJson<{ started: number }>(n, CALM, "hi", LOADED)).started;
    assertEquals(await injectJson(n, SPINNER, "block", LOADED), "blocking");
    await waitFor("the stuck process restarts", () => n.kernel.status(SPINNER).restarts > restarts, 60_000);
    await waitFor("it runs", () => n.kernel.status(SPINNER).running, 60_000);
    hosts = n.kernel.hostPids();
    assertEquals(hosts.get(CALM_PKG), calmHost, "the other packages keep their host");
    assertEquals((await injectJson<{ started: number }>(n, CALM, "hi", LOADED)).started, calmAgain);
    assertEquals(n.kernel.status(CALM).restarts, 1);
    await allAnswer(n, pings);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

interface Report {
  listening: Record<string, string>;
  heard: string[];
  globals: string[];
  state: string | null;
  askVictim: string;
  stateModule: string;
}

Deno.test("pool: a package cannot read another's messages or state through the process host they share", async () => {
  const n = await bootNode({ sandbox: "processes", hosts: 1 });
  try {
    await install(n, `${FIXTURES}pool_victim`);
    const secret = `secret-${crypto.randomUUID()}`;
    const kept = await injectJson<{ offered: Record<string, string> }>(n, VICTIM, { Keep: secret }, LOADED);
    for (const [route, result] of Object.entries(kept.offered)) {
      assert(!result.startsWith("OFFERED"), `the victim reached ${route}, a channel between threads`);
    }
    // Its thread ends holding the secret: whatever thread the snoop gets, it is not that one.
    assertEquals(await injectJson(n, VICTIM, "exit", LOADED), "leaving");
    await waitFor(
      "the victim restarts",
      () => n.kernel.status(VICTIM).restarts > 0 && n.kernel.status(VICTIM).running,
      60_000,
    );

    await install(n, `${FIXTURES}pool_snoop`);
    const hosts = n.kernel.hostPids();
    assertEquals(hosts.get("pool-snoop:evil.os"), hosts.get("pool-victim:good.os"), "they share a host");
    await injectJson(n, VICTIM, { Keep: secret }, LOADED);
    for (let i = 0; i < 5; i++) assertEquals(await injectJson(n, VICTIM, { note: secret }, LOADED), "ok");

    const report = await injectJson<Report>(n, SNOOP, "report", LOADED);
    for (const [route, result] of Object.entries(report.listening)) {
      assert(!result.startsWith("OPENED"), `the snoop opened ${route}: ${result}`);
    }
    assertEquals(report.state, null, "its own state, and nobody else's");
    assert(!report.askVictim.startsWith("ANSWERED"), `the victim is not public: ${report.askVictim}`);
    assertMatch(report.stateModule, /NoCap/);
    assert(report.globals.length > 100, "the snoop did walk its globals");
    assert(!JSON.stringify(report).includes(secret), "nothing the snoop found holds the victim's secret");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

/** CPU-seconds `pid` has used, from ps (whole seconds: tests read no /proc). */
async function cpuSeconds(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "times=", "-p", String(pid)], stdout: "piped" }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) || 0;
}
