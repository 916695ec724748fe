/**
 * A newcomer's first hour (issue 22), at the command line: kit's `-v/--version` on boot-fake-node and chain, the
 * blank template, the book's `-a <worker>.wasm`, what `setup` installs, and commands that load only what they use
 * (shown by running them with an empty Deno cache that may fetch nothing: they need no npm package at all).
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, freePort, PipedProcess, RUN_FLAGS } from "./cli_helpers.ts";

/** Runs a command once with an empty DENO_DIR and --cached-only: any npm import (viem, solc, ...) fails it. */
async function withoutNpm(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const denoDir = await Deno.makeTempDir({ prefix: "hyperdeno-empty-deno-dir-" });
  try {
    const [run, ...rest] = RUN_FLAGS;
    const r = await new Deno.Command(Deno.execPath(), {
      args: [run, "--cached-only", ...rest, ...args],
      env: { DENO_DIR: denoDir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const d = new TextDecoder();
    return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
}

Deno.test("--version, view-api and inject-message load no npm package (start-up is the command's own)", async () => {
  const version = await withoutNpm("--version");
  assertEquals(version.code, 0, version.err);
  assertMatch(version.out, /^hyperdeno \d+\.\d+\.\d+ \(deno /);
  const port = String(freePort());
  for (const args of [["view-api", "-p", port], ["inject-message", "-p", port, "a:b:c", '"x"']]) {
    const r = await withoutNpm(...args);
    // The one-line answer of a command that ran: nothing listens there.
    assertMatch(r.err, new RegExp(`^${args[0]}: no node answers on port ${port}: start one with`), r.err);
  }
});

Deno.test("kit's -v/--version: latest is accepted, anything else is refused with what it would mean", async () => {
  for (const [command, reason] of [["boot-fake-node", "the node is this hyperdeno"], ["chain", "Hypermap"]]) {
    const refused = await cli(command, "-v", "v0.8.7", "-p", String(freePort()));
    assertEquals(refused.code, 2, refused.out);
    assertEquals(refused.err.trim().split("\n").length, 1, refused.err);
    assertMatch(refused.err, new RegExp(`-v v0\\.8\\.7: .*${reason}.*; the only version is latest`));
    assertMatch(
      (await cli(command, "--help")).out,
      /-v, --version <VERSION>\s+kit's Hyperdrive version.*\[default: latest\]/,
    );
  }
  // The book's bare `-v` says what it wants.
  assertMatch((await cli("chain", "-v")).err, /^chain: -v needs a value \(VERSION, e\.g\. latest\)/);
  const port = freePort();
  const chain = new PipedProcess(Deno.execPath(), [...RUN_FLAGS, "chain", "-v", "latest", "-p", String(port)]);
  try {
    await chain.waitFor(new RegExp(`dev chain on http://127\\.0\\.0\\.1:${port} .*Ctrl-C to stop`), 60_000);
  } finally {
    assertEquals((await chain.stop()).code, 0);
  }
});

Deno.test("new -t blank: one process that only starts; build -a names the .js for the book's .wasm", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-blank-" });
  try {
    const created = await cli("new", `${dir}/my-chess`, "-t", "blank");
    assertEquals(created.code, 0, created.err);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/my-chess/pkg/manifest.json`));
    assertEquals(manifest.map((e: { process_name: string }) => e.process_name), ["my-chess"]);
    assertMatch(await Deno.readTextFile(`${dir}/my-chess/my-chess/main.ts`), /println\(`\$\{our\}: started`\)/);
    const listed = await cli("new", `${dir}/x`, "-t", "nope");
    assertMatch(listed.err, /pick one of blank, chat, echo, fibonacci, file-transfer/);

    // The book's `kit b file-transfer -a file-transfer/pkg/file-transfer-worker.wasm`, here.
    const wasm = await cli("build", `${dir}/my-chess`, "-a", `${dir}/my-chess/pkg/my-chess.wasm`);
    assertEquals(wasm.code, 2, wasm.out);
    assertEquals(wasm.err.trim().split("\n").length, 1, wasm.err);
    assertMatch(wasm.err, /no such file; processes here are JavaScript, not Wasm: use -a \S+\/pkg\/my-chess\.js/);
    const js = await cli("build", `${dir}/my-chess`, "-a", `${dir}/my-chess/pkg/my-chess.js`);
    assertEquals(js.code, 0, js.err);
    assert((await Deno.stat(`${dir}/my-chess/pkg/api/my-chess.js`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("setup says the installed command runs this checkout", async () => {
  const root = await Deno.makeTempDir({ prefix: "hyperdeno-setup-" });
  try {
    const r = await cli("setup", "--root", root);
    assertEquals(r.code, 0, r.err);
    const checkout = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
    assertMatch(r.out, new RegExp(`it runs this checkout, ${checkout}: after moving it .* run \`deno task install\``));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
