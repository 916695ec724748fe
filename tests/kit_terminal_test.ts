/**
 * The terminal as Hyperdrive ships it, typed at real nodes: the new scripts,
 * hi to ourselves, top that does not grow with use, m on an empty answer and
 * a kernel error, and a crash trace in the package's own source lines.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNet, bootNode, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { FIXTURES, PACKAGES } from "./helpers.ts";
import { cli } from "./cli_helpers.ts";
import { buildWithFlags } from "../cli/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";

/** Types `line` and waits for a printed line matching `re` (after what was printed before). */
async function typed(n: TestNode, line: string, re: RegExp, ms = 10_000): Promise<string> {
  const from = n.lines.length;
  n.terminal.command(line);
  let hit = "";
  await waitFor(`"${line}" to print ${re}`, () => {
    const text = n.lines.slice(from).join("\n");
    const m = text.match(re);
    if (m) hit = text;
    return Boolean(m);
  }, ms);
  return hit;
}

Deno.test("peers, peer, net-diagnostics, kfetch, hi both ways and to ourselves, across two nodes", async () => {
  const net = await bootNet({ "fake.dev": {}, "fake2.dev": {} });
  const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
  try {
    await typed(a, "peers", /no peers: no link with another node yet/);
    await typed(a, "hi fake2.dev hello over there", /hi: fake2\.dev got it \(\d+ ms\)/);
    await waitFor("the hello at fake2.dev", () => b.lines.some((l) => l.includes("hello over there")));
    await typed(a, "hi fake.dev hello me", /hi: fake\.dev \(this node\) got it/);
    assert(a.lines.some((l) => l.includes("hello me")));
    await typed(a, "peers", /1 peer:\n\s+fake2\.dev\s+direct at 127\.0\.0\.1 \(tcp \d+, ws \d+\)/);
    await typed(a, "peer fake2.dev", /fake2\.dev\n\s+key\s+\S+\n\s+routing\s+direct at/);
    await typed(a, "peer nobody.dev", /peer: no node nobody\.dev in the registry/);
    await typed(a, "net-diagnostics", /net: fake\.dev, direct on tcp \d+, ws \d+[\s\S]*1 link:\n\s+fake2\.dev/);
    await typed(a, "kfetch", /fake\.dev\n.*hyperdeno node\n.*key \S+, direct at[\s\S]*1 peer linked/);
    await typed(a, "help", /peers\s+the nodes we have a link with[\s\S]*kfetch\s+this node at a glance/);
    await typed(a, "help kill", /kill <PROCESS_ID>\s+stop a process and remove it/);
  } finally {
    await net.close();
  }
});

Deno.test("kill, clear-state, top without pile-up, m on empty answers and kernel errors", async () => {
  const n = await bootNode();
  try {
    await install(n, `${PACKAGES}ping`);
    const caps = async () => {
      const text = await typed(n, "top terminal:terminal:sys", /capabilities \((\d+)\):/);
      return Number(text.match(/capabilities \((\d+)\):/)![1]);
    };
    const before = await caps();
    for (let i = 0; i < 5; i++) await typed(n, `echo run ${i}`, new RegExp(`^run ${i}$`, "m"));
    assertEquals(await caps(), before, "running scripts leaves the terminal's capabilities as they were");
    const top = await typed(n, "top", /processes \(\d+ running\)/);
    assert(!/^(echo|top)-[0-9a-z]+:terminal:sys\s/m.test(top), `scripts are not listed:\n${top}`);
    assertMatch(top, /runtime modules: http-server, kernel, kv, net|runtime modules: .*vfs/);

    await typed(n, `m -a 60 our@ping:ping:template.os '"count"'`, /\{"count":0\}/);
    await typed(n, "clear-state ping:ping:template.os", /cleared the state of ping:ping:template\.os/);
    // The kernel answers a bad command at once instead of leaving m waiting its whole timeout.
    const t0 = Date.now();
    await typed(
      n,
      `m -a 30 our@kernel:distro:sys '"bogus"'`,
      /\{"Err":"bad KernelCommand: unknown KernelCommand \\"bogus\\""\}/,
    );
    assert(Date.now() - t0 < 20_000, "m stopped waiting on the kernel's error, not at its 30 s timeout");
    await typed(n, "kill ping:ping:template.os", /killed ping:ping:template\.os/);
    await typed(n, "kill ping:ping:template.os", /kill: no process ping:ping:template\.os/);
    await typed(n, "kill", /Usage: kill <PROCESS_ID>/);
    // An empty response is shown as such.
    await install(n, `${FIXTURES}kit_empty`);
    await typed(
      n,
      `m -a 60 our@empty:kit-empty:test.os '"anything"'`,
      /^\(empty response from fake\.dev@empty:kit-empty:test\.os\)$/m,
    );
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("a crash trace names the package's own source line, in full once, then one line per repeat", async () => {
  const n = await bootNode();
  try {
    await install(n, `${FIXTURES}kit_crash`);
    const crashes = () => n.lines.filter((l) => l.includes("kernel: crash:kit-crash:test.os crashed"));
    for (let i = 1; i <= 3; i++) {
      n.terminal.command(`m our@crash:kit-crash:test.os '"crash"'`);
      await waitFor(`crash ${i}`, () => crashes().length >= i, 15_000);
      await waitFor(`restart ${i}`, () => n.kernel.running.has("crash:kit-crash:test.os"), 15_000);
    }
    const [first, ...rest] = crashes();
    assertMatch(first, /kit crash fixture: asked to crash/);
    assertMatch(first, /crash\/boom\.ts:4:9/);
    assertMatch(first, /crash\/main\.ts:6:3/);
    for (const r of rest) {
      assertMatch(r, /crashed again: Error: kit crash fixture: asked to crash$/);
    }
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("a script's grant_capabilities do not pile up on the process it grants to, one per run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-grants-" });
  const n = await bootNode();
  try {
    assertEquals((await cli("new", `${dir}/chat`)).code, 0);
    const packageId = await buildWithFlags(`${dir}/chat`, {
      port: "0",
      include: [],
      exclude: [],
      "local-dependency": [],
      "add-to-api": [],
    });
    n.install(packageId, readPkgDir(`${dir}/chat/pkg`));
    const caps = async (id: string) => {
      const text = await typed(n, `top ${id}`, /capabilities \((\d+)\):/);
      return Number(text.match(/capabilities \((\d+)\):/)![1]);
    };
    const chatBefore = await caps("chat:chat:template.os");
    const terminalBefore = await caps("terminal:terminal:sys");
    for (let i = 0; i < 4; i++) {
      // The send script is granted to the chat process (scripts.json grant_capabilities); fake.dev is us.
      await typed(n, `send:chat:template.os fake.dev note ${i}`, /^sent to fake\.dev$/m);
    }
    await waitFor("the scripts to end", () => ![...n.kernel.scripts].some((s) => s.startsWith("send-")));
    assertEquals(await caps("chat:chat:template.os"), chatBefore);
    assertEquals(await caps("terminal:terminal:sys"), terminalBefore);
  } finally {
    await n.shutdown();
    await removeHome(n);
    await Deno.remove(dir, { recursive: true });
  }
});
