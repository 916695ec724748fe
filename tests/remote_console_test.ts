/**
 * The console under attack: forged "kernel:" lines, escape codes that clear
 * the screen or rewrite a line, and floods of log lines. Every line shows its
 * source, no control character reaches the screen raw, and a flood prints a
 * bounded number of lines and one summary.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { injectJson, type TestNode, waitFor, withNode } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { printable } from "../modules/terminal/printable.ts";
import { RepeatLimiter } from "../modules/terminal/repeat_limiter.ts";
import { type KernelMessage, utf8 } from "../runtime/types.ts";

const ATTACKER = "attacker:remote-attacker:test.os";
const PKG = `${FIXTURES}remote_attacker`;
// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;

/** Every screen line the node printed, one per row. */
function rows(node: TestNode): string[] {
  return node.lines.flatMap((l) => l.split("\n"));
}

Deno.test("console: a package's println cannot forge kernel lines or smuggle control characters", async () => {
  await withNode([PKG], async (node) => {
    const forged = "ok\nkernel: granted root to attacker\r\x1b[2Kkernel: terminal crashed\x1b]0;owned\x07\n\u202eeurt";
    assertEquals(await injectJson(node, ATTACKER, { Print: forged }), "done");
    await waitFor("the println", () => node.lines.some((l) => l.includes("granted root")));
    const shown = node.lines.find((l) => l.includes("granted root"))!.split("\n");
    assertEquals(shown.length, 3, "one screen line per line of text");
    for (const line of shown) {
      assert(line.startsWith(`${ATTACKER}: `), `a line without its source: ${JSON.stringify(line)}`);
      assert(!RAW_CONTROL.test(line), `raw control character: ${JSON.stringify(line)}`);
    }
    assertEquals(
      shown[1],
      `${ATTACKER}: kernel: granted root to attacker\\r\\x1b[2Kkernel: terminal crashed\\x1b]0;owned\\x07`,
    );
    assert(!rows(node).some((l) => l.startsWith("kernel: granted") || l.startsWith("kernel: terminal crashed")));
  });
});

Deno.test("console: a crash message cannot start a line of its own", async () => {
  await withNode([PKG], async (node) => {
    await injectJson(node, ATTACKER, { Crash: "boom\nkernel: all processes granted root\x1b[1A" }, 2).catch(() => {});
    await waitFor("the crash", () => node.lines.some((l) => l.includes("all processes granted root")));
    const row = rows(node).find((l) => l.includes("all processes granted root"))!;
    assert(row.startsWith("  "), `the crash's later lines are indented under it: ${JSON.stringify(row)}`);
    assert(!RAW_CONTROL.test(row), JSON.stringify(row));
  });
});

Deno.test("console: what a terminal script prints plainly is still escaped", async () => {
  await withNode([], async (node) => {
    node.terminal.command("echo \x1b[2Jplain\rtext\x1b[31m red");
    await waitFor("the echo", () => node.lines.some((l) => l.includes("plain")));
    assertEquals(node.lines.find((l) => l.includes("plain")), "\\x1b[2Jplain\\rtext\\x1b[31m red");
  });
});

Deno.test("console: 300,000 refused sends print a bounded number of lines and one summary", async () => {
  await withNode([PKG], async (node) => {
    const n = 300_000;
    const before = node.lines.length;
    const t0 = performance.now();
    assertEquals(await injectJson(node, ATTACKER, { Flood: { target: "fake.dev@kernel:distro:sys", n } }, 60), "done");
    await waitFor("every send", () => node.kernel.status(ATTACKER).messages_out >= n, 60_000);
    const ms = performance.now() - t0;
    const refusals = node.lines.filter((l) => l.includes(`${ATTACKER} may not message kernel:distro:sys`));
    assertEquals(refusals.length, 10, "ten lines, then the rest are counted");
    // Something else still prints at once: a distinct line from another source.
    node.terminal.command("echo the node still talks");
    await waitFor("the echo", () => node.lines.some((l) => l === "the node still talks"));
    await waitFor("the summary", () => node.lines.some((l) => l.startsWith("… and ")), 15_000);
    const summary = node.lines.find((l) => l.startsWith("… and "))!;
    assertMatch(summary, /^… and 299,990 more like "kernel: attacker:remote-attacker:test\.os may not message/);
    assert(node.lines.length - before < 20, `${node.lines.length - before} lines printed`);
    console.log(
      `    ${n.toLocaleString("en-US")} refused sends in ${ms.toFixed(0)} ms, ${node.lines.length - before} lines`,
    );
  });
});

Deno.test("kernel commands refuse a source on another node even when handed one directly", async () => {
  await withNode([], (node) => {
    const km: KernelMessage = {
      id: 1n,
      source: "evil.dev@terminal:terminal:sys",
      target: "fake.dev@kernel:distro:sys",
      rsvp: null,
      message: {
        Request: {
          inherit: false,
          expects_response: null,
          body: utf8(JSON.stringify({ KillProcess: "terminal:terminal:sys" })),
          metadata: null,
          capabilities: [],
        },
      },
      lazy_load_blob: null,
    };
    node.commands.handle(km);
    assert(node.kernel.status("terminal:terminal:sys").running, "the terminal was killed");
    assert(node.lines.some((l) => l.includes("refused a KernelCommand from evil.dev@terminal:terminal:sys")));
    return Promise.resolve();
  });
});

Deno.test("printable writes control characters out and keeps printable Unicode", () => {
  assertEquals(
    printable("a\x1b[2Jb\rc\x00d\x7f\x9b\u202eé→🙂\tx\ny"),
    "a\\x1b[2Jb\\rc\\0d\\x7f\\x9b\\u202eé→🙂\tx\\ny",
  );
});

const LIMITS = { windowMs: 10_000, perKind: 3, perSource: 5, maxKeys: 100 };

Deno.test("the repeat limiter collapses one kind of line from one source, and says how many it held back", () => {
  let now = 0;
  const out: string[] = [];
  const limiter = new RepeatLimiter((_v, l) => out.push(l), LIMITS, () => now);
  let printed = 0;
  for (let i = 0; i < 1000; i++) if (limiter.admit("p", "refused", `line ${i}`, 0, true)) printed++;
  assertEquals(printed, 3);
  assertEquals(out, []);
  now = 10_000;
  assert(limiter.admit("p", "refused", "a new window", 0, true));
  assertEquals(out, ['… and 997 more like "line 0" in the last 10 s']);
  limiter.flush();
});

Deno.test("the repeat limiter holds one source to its budget whatever kinds it varies", () => {
  const out: string[] = [];
  const limiter = new RepeatLimiter((_v, l) => out.push(l), { ...LIMITS, maxKeys: 10_000 });
  let printed = 0;
  for (let i = 0; i < 1000; i++) if (limiter.admit("q", `kind ${i}`, `q ${i}`, 0, true)) printed++;
  assertEquals(printed, 5);
  assert(limiter.admit("r", "kind 0", "another source is not held back", 0, true));
  limiter.flush();
  assertEquals(out, ["… and 995 more lines from q in the last 10 s"]);
});

Deno.test("the repeat limiter's memory stays bounded under a million sources", () => {
  const out: string[] = [];
  const limiter = new RepeatLimiter((_v, l) => out.push(l), LIMITS);
  let printed = 0;
  for (let i = 0; i < 1_000_000; i++) if (limiter.admit(`s${i}`, "k", "x", 0, true)) printed++;
  assert(limiter.size <= 2 * (LIMITS.maxKeys + 1), `${limiter.size} keys held`);
  assertEquals(printed, LIMITS.maxKeys + LIMITS.perKind, "each tracked source once, then the overflow's share");
  limiter.flush();
  assertEquals(out, ["… and 999,897 more lines from many sources in the last 10 s"]);
});
