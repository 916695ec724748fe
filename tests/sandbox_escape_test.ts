/**
 * A hostile package, built and installed like any other, attacks the node it
 * runs in: each attack must fail, crash only the attacker, and leave the node
 * and every other process serving.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNode, inject, injectJson, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";

const PROBE = "probe:hostile:test.os";
const BYSTANDER = "bystander:hostile:test.os";

async function withHostile(f: (n: TestNode) => Promise<void>, opts: { processHeapMb?: number } = {}) {
  const n = await bootNode(opts);
  try {
    await install(n, `${FIXTURES}hostile`);
    await f(n);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
}

/** The attack crashes the attacker (its request fails at once) and nothing else. */
async function attackCrashesOnlyTheAttacker(n: TestNode, attack: string, why: RegExp) {
  const before = n.kernel.status(PROBE).restarts;
  const t0 = performance.now();
  const r = await inject(n, PROBE, JSON.stringify(attack), { timeout: 20 });
  assertEquals(r.error, "Offline", `${attack}: the request fails when the attacker dies, not at its timeout`);
  assert(performance.now() - t0 < 15_000, `${attack}: failed at once`);
  await waitFor(`${attack}: the attacker restarts`, () => n.kernel.status(PROBE).restarts > before, 15_000);
  assertMatch(n.kernel.status(PROBE).last_error ?? "", why);
  assertEquals(await injectJson(n, BYSTANDER, "hi"), "still here", `${attack}: the bystander still answers`);
}

Deno.test("sandbox: a process sees no host API: no Deno, process, require, fetch, caches or BroadcastChannel", () =>
  withHostile(async (n) => {
    const seen = await injectJson<Record<string, string>>(n, PROBE, "globals");
    for (const [name, type] of Object.entries(seen)) assertEquals(type, "undefined", `${name} is visible`);
  }));

Deno.test("sandbox: a process cannot turn strings into code", () =>
  withHostile(async (n) => {
    const r = await injectJson<Record<string, string>>(n, PROBE, "codegen");
    for (const [how, result] of Object.entries(r)) {
      assertMatch(result, /EvalError|Code generation from strings disallowed|TypeError/, how);
    }
  }));

Deno.test("sandbox: Deno.kill, Deno.stdin, Deno.exit and process.exit crash only the attacker", () =>
  withHostile(async (n) => {
    for (const attack of ["kill", "stdin", "exit", "processExit"]) {
      await attackCrashesOnlyTheAttacker(n, attack, /ReferenceError: (Deno|process) is not defined/);
    }
  }));

Deno.test("sandbox: a process that closes its own thread has exited: Offline at once, restarted, shown in top", () =>
  withHostile(async (n) => {
    const before = n.kernel.status(PROBE).restarts;
    const t0 = performance.now();
    const r = await inject(n, PROBE, '"close"', { timeout: 20 });
    assertEquals(r.error, "Offline");
    assert(performance.now() - t0 < 15_000, "Offline at once, not at the 20 s timeout");
    await waitFor(
      "restart after close()",
      () => n.kernel.status(PROBE).restarts > before && n.kernel.status(PROBE).running,
    );
    assertEquals(await injectJson(n, PROBE, "globals").then(() => "answers again"), "answers again");
  }));

Deno.test("sandbox: a process that exhausts its heap dies alone; the node lives on", () =>
  withHostile(async (n) => {
    await attackCrashesOnlyTheAttacker(n, "oom", /memory limit|heap out of memory/i);
  }, { processHeapMb: 64 }));

Deno.test("sandbox: console output goes through the kernel, named by its process", () =>
  withHostile(async (n) => {
    assertEquals(await injectJson(n, PROBE, "console"), "printed");
    await waitFor("the console line", () => n.lines.some((l) => l.includes("forged line")));
    const line = n.lines.find((l) => l.includes("forged line"))!;
    assert(line.includes(PROBE), `the line names its process: ${JSON.stringify(line)}`);
  }));

Deno.test("sandbox: code that calls import() is refused before it runs, with a clear error", async () => {
  const n = await bootNode();
  try {
    const dir = `${FIXTURES}hostile`;
    await buildPackage(dir, { onlyIfStale: true });
    const files = readPkgDir(`${dir}/pkg`);
    files["manifest.json"] = new TextEncoder().encode(JSON.stringify([{
      process_name: "importer",
      process_wasm_path: "/importer.js",
      on_exit: "None",
      request_networking: false,
      request_capabilities: [],
      grant_capabilities: [],
      public: true,
    }]));
    let refused = "";
    try {
      await n.install("importer:test.os", files);
    } catch (e) {
      refused = (e as Error).message;
    }
    const log = n.lines.join("\n");
    assertMatch(`${refused}\n${log}`, /calls import\(\).*processes may not load code at run time/);
    assertEquals(n.kernel.status("importer:importer:test.os").running, false);
    const denoDir = Deno.env.get("DENO_DIR");
    if (denoDir) {
      const fetched = await Deno.stat(`${denoDir}/npm/registry.npmjs.org/is-number`).then(() => true, () => false);
      assertEquals(fetched, false, "the node fetched nothing from the registry");
    }
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

// Deno cannot interrupt a thread inside one synchronous run of JavaScript, and a heap exhausted
// there ends no thread by itself (its code is stopped, or the thread blocks at its limit). The
// sandbox finds both (runtime/host/threads.ts): the attacker crashes, alone, within seconds.
Deno.test("sandbox: heap exhaustion in one synchronous loop crashes only the attacker; the node lives on", () =>
  withHostile(async (n) => {
    const rss0 = Deno.memoryUsage().rss;
    await attackCrashesOnlyTheAttacker(n, "oomSync", /memory limit/);
    const grown = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
    assert(grown < 400, `RSS grew ${grown.toFixed(0)} MiB with a 64 MiB heap limit`);
  }, { processHeapMb: 64 }));

const FLOODER = "flooder:hostile:test.os";

Deno.test("limits: a blob or body over the limit is refused where the process sends it", () =>
  withHostile(async (n) => {
    const blob = await injectJson<{ sent: number; refused: string }>(n, FLOODER, "bigBlob");
    assertEquals(blob.sent, 0);
    assertMatch(blob.refused, /LimitReached: a blob may be at most \d+ bytes.*send it in chunks/);
    const body = await injectJson<{ sent: number; refused: string }>(n, FLOODER, "bigBody");
    assertMatch(body.refused, /LimitReached: a message body may be at most/);
  }));

Deno.test("limits: a process that takes no messages is refused more once its unread queue is full", () =>
  withHostile(async (n) => {
    const rss0 = Deno.memoryUsage().rss;
    const r = await injectJson<{ sent: number; refused: string }>(n, FLOODER, "inbox", 60);
    assertEquals(r, { sent: 0, refused: "Offline" });
    assert(n.lines.some((l) => /sink:hostile:test.os has \d+ messages it has not taken/.test(l)), n.lines.join("\n"));
    const grown = (Deno.memoryUsage().rss - rss0) / 2 ** 20;
    assert(grown < 600, `RSS grew ${grown.toFixed(0)} MiB`);
    assertEquals(await injectJson(n, BYSTANDER, "hi"), "still here");
  }));

Deno.test("limits: requests awaiting answers are bounded in bytes per requester", () =>
  withHostile(async (n) => {
    assertEquals(await injectJson(n, FLOODER, "pending", 60), "Offline");
    assert(n.lines.some((l) => /already awaits responses to \d+ bytes of requests/.test(l)), n.lines.join("\n"));
  }));

Deno.test("limits: a package cannot spawn children without end", () =>
  withHostile(async (n) => {
    const r = await injectJson<{ sent: number; refused: string }>(n, FLOODER, "children", 60);
    assert(r.sent < 64, `spawned ${r.sent}`);
    assertMatch(r.refused, /TooManyProcesses: hostile:test.os already runs 64 processes/);
    assertEquals(await injectJson(n, BYSTANDER, "hi"), "still here");
  }));
