/**
 * The process-host watchdog on a machine with every core busy: healthy
 * processes starved of CPU are not "stuck" (issue 20's false kills). CPU hogs
 * (busy-looping shells, one per core) run throughout while the chat template's
 * run-tests runs several times and a file crosses between two nodes; no node
 * may report a stuck thread or end a process host, and everything succeeds.
 * That a truly stuck thread is still stopped is tests/host_sandbox_test.ts's.
 *
 * HYPERDENO_LOAD_RUNS (default 1: the hogs' CPU is the suite's too) sets the run-tests count, HYPERDENO_LOAD_MIB
 * (default 128) the file's size: the are 10 and 1024. HYPERDENO_LOAD_HOGS
 * (default: one per core, every core busy) sets the hogs; twice the cores starves
 * the nodes harder.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli, freePort } from "./cli_helpers.ts";
import { freeTestPorts } from "./kit_helpers.ts";
import { bootFt, download, filePath, until } from "./ft_helpers.ts";

const RUNS = Number(Deno.env.get("HYPERDENO_LOAD_RUNS") ?? 1);
const MIB = Number(Deno.env.get("HYPERDENO_LOAD_MIB") ?? 128);
const HOGS = Number(Deno.env.get("HYPERDENO_LOAD_HOGS") ?? navigator.hardwareConcurrency);
/** What a node prints when its watchdog ends a process host. */
const KILLED = /stuck|process host of package .* ended/;

async function withHogs(f: () => Promise<void>) {
  const hogs = Array.from(
    { length: HOGS },
    () => new Deno.Command("sh", { args: ["-c", "while :; do :; done"], stdout: "null", stderr: "null" }).spawn(),
  );
  try {
    await f();
  } finally {
    for (const h of hogs) h.kill("SIGKILL");
    await Promise.all(hogs.map((h) => h.status));
  }
}

Deno.test(`watchdog under CPU hogs: the chat template's run-tests passes ${RUNS} times, no process host ended`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-watchdog-rt-" });
  try {
    const pkg = `${dir}/my-chat`;
    const made = await cli("new", pkg);
    assertEquals(made.code, 0, made.err);
    const toml = `${pkg}/test/tests.toml`;
    await freeTestPorts(toml, [freePort(), freePort(), freePort()]);
    // The nodes' output is what shows a kill; the test's own timeout is not what is tested here.
    await Deno.writeTextFile(
      toml,
      (await Deno.readTextFile(toml)).replace("always_print_node_output = false", "always_print_node_output = true")
        .replace(/^timeout_secs = \d+$/m, "timeout_secs = 300"),
    );
    await withHogs(async () => {
      for (let i = 1; i <= RUNS; i++) {
        const r = await cli("run-tests", pkg);
        const out = r.out + r.err;
        assert(!KILLED.test(out), `run ${i} of ${RUNS}: a process host was ended:\n${out}`);
        assertEquals(r.code, 0, `run ${i} of ${RUNS}:\n${out}`);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test(`watchdog under CPU hogs: a ${MIB} MiB file crosses between two nodes, no process host ended`, async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    const source = filePath(b, "big.bin");
    await Deno.mkdir(source.slice(0, source.lastIndexOf("/")), { recursive: true });
    // Written in pieces: a 1 GiB file need not sit in this test's memory.
    const piece = new Uint8Array(16 * 2 ** 20);
    using f = await Deno.open(source, { write: true, create: true, truncate: true });
    for (let i = 0; i < MIB / 16; i++) {
      for (let off = 0; off < piece.length; off += 65536) crypto.getRandomValues(piece.subarray(off, off + 65536));
      for (let w = 0; w < piece.length;) w += await f.write(piece.subarray(w));
    }
    await withHogs(async () => {
      const id = await download(a, "big.bin", "fake2.dev");
      const t = await until(a, id, ["done", "failed"], 30 * 60_000);
      assertEquals(t.status, "done", JSON.stringify(t));
    });
    assert(await sameBytes(source, filePath(a, "big.bin")), "the copy has the same bytes");
    for (const n of [a, b]) {
      const killed = n.lines.filter((l) => KILLED.test(l));
      assertEquals(killed, [], `${n.opts.name}: no process host ended`);
    }
  } finally {
    await net.close();
  }
});

async function sameBytes(x: string, y: string): Promise<boolean> {
  return (await new Deno.Command("cmp", { args: ["-s", x, y] }).output()).code === 0;
}
