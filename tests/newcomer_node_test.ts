/**
 * A newcomer's first hour (issue 22), at a node booted as they boot it (a child process, its terminal on a pipe):
 * the README's install line and terminal examples answering what the README says (parsed out of README.md, so it
 * cannot drift), a banner without install noise that advises a command that exists, kit's `-v latest`, the blank
 * template, the chat template's one-line answer to a body it does not take (TypeScript and JavaScript, and
 * chat-files), an aligned alias list, and Ctrl-C saying what it does to the home, and resumed downloads said so.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { freePort, PipedProcess, RUN_FLAGS } from "./cli_helpers.ts";
import { bootNode, inject, startChain, type TestChain, withNode } from "../runtime/testing.ts";
import { PACKAGES } from "./helpers.ts";

const REPO = new URL("../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${REPO}README.md`);
/** A PATH without any `hyperdeno`: a fresh clone's. */
const FRESH_PATH = `${Deno.execPath().replace(/\/[^/]+$/, "")}:/usr/bin:/bin`;

/** The README's terminal lines that show their answer: `<command>   # → <answer>  <remarks>`. */
function readmeAnswers(): { line: string; answer: string }[] {
  return [...README.matchAll(/^(\S.*?)\s+# → (\S+)/gm)].map((m) => ({ line: m[1], answer: m[2] }));
}

/** The README's line that installs ping, as `hyperdeno` arguments. */
function readmeInstall(): string[] {
  const m = README.match(/^deno task hyperdeno (bs packages\/ping)\s/m);
  assert(m, "the README says how to install ping");
  return m[1].split(" ");
}

/** Runs a hyperdeno command from the checkout, as `deno task hyperdeno ...` does. */
async function hyperdeno(cwd: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [...RUN_FLAGS, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

class FakeNode extends PipedProcess {
  constructor(readonly port: number, chain: TestChain, readonly home: string, extra: string[] = []) {
    const args = ["boot-fake-node", "-p", String(port), "-c", String(chain.port), "-o", home, ...extra];
    super(Deno.execPath(), [...RUN_FLAGS, ...args], REPO, { PATH: FRESH_PATH });
  }

  /** Types `line` and waits for what it prints next to match `re`; returns that output. */
  async answer(line: string, re: RegExp, ms = 30_000): Promise<string> {
    const from = this.output.length;
    await this.type(line);
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const after = this.output.slice(from);
      if (re.test(after)) return after;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`"${line}" never printed ${re}; it printed:\n${this.output.slice(from)}`);
  }
}

/** A chain and a working folder for one test, and the nodes it boots: all gone afterwards, whatever happened. */
async function session(
  prefix: string,
  f: (
    s: { chain: TestChain; work: string; boot(port: number, home: string, extra?: string[]): FakeNode },
  ) => Promise<void>,
) {
  const chain = await startChain();
  const work = await Deno.makeTempDir({ prefix });
  const nodes: FakeNode[] = [];
  const boot = (port: number, home: string, extra: string[] = []) => {
    const node = new FakeNode(port, chain, home, extra);
    nodes.push(node);
    return node;
  };
  try {
    await f({ chain, work, boot });
  } finally {
    for (const node of nodes) {
      node.kill("SIGKILL");
      await node.exited();
    }
    await chain.stop();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

Deno.test("a fresh node: the README's examples answer as it says, a quiet banner, blank, chat's errors, Ctrl-C", async () => {
  await session("hyperdeno-newcomer-", async ({ work, boot }) => {
    const home = `${work}/home`;
    const port = freePort();
    const node = boot(port, home, ["-v", "latest"]);
    await node.waitFor(/fake\.dev: node ready/, 60_000);
    // The banner comes without the distro's 14 install lines, and advises what works before `hyperdeno` is on PATH.
    assert(!/granted/.test(node.output), `no install lines at verbosity 0:\n${node.output}`);
    assertMatch(
      node.output,
      new RegExp(`next\\s+deno task hyperdeno new my-app && .* start-package my-app -p ${port}`),
    );
    assertMatch(node.output, /`deno task install` puts `hyperdeno` on PATH/);

    // The README: install ping as it says, then its terminal lines answer what it shows.
    const installed = await hyperdeno(REPO, ...readmeInstall(), "-p", String(port));
    assertEquals(installed.code, 0, installed.err);
    const answers = readmeAnswers();
    assert(answers.some((a) => a.line.includes('"count"')), `the README shows the count:\n${JSON.stringify(answers)}`);
    for (const { line, answer } of answers) {
      await node.answer(line, new RegExp(`^${escape(answer)}$`, "m"));
    }

    // The alias list's columns line up, whatever the longest alias.
    const listed = await node.answer("alias", /aliases:\n(?:\s+\S+\s+\S+:terminal:sys\n?){13}/);
    const rows = listed.slice(listed.indexOf("aliases:")).split("\n").slice(1).filter((l) => /:terminal:sys$/.test(l));
    const columns = new Set(rows.map((r) => r.search(/\S+:terminal:sys$/)));
    assertEquals(columns.size, 1, `one column for the scripts:\n${rows.join("\n")}`);

    // kit's blank template: one process that starts and does nothing else.
    assertEquals((await hyperdeno(work, "new", "blank-app", "-t", "blank")).code, 0);
    const blank = await hyperdeno(work, "bs", "blank-app", "-p", String(port));
    assertEquals(blank.code, 0, blank.err);
    await node.waitFor(/blank-app:blank-app:template\.os: started/);

    // The chat template, in both languages `new` writes, answers a body it does not take in one line.
    for (const [dir, language] of [["chat-ts", "typescript"], ["chat-js", "javascript"]]) {
      assertEquals((await hyperdeno(work, "new", dir, "-l", language)).code, 0);
      const started = await hyperdeno(work, "bs", dir, "-p", String(port));
      assertEquals(started.code, 0, started.err);
      for (const body of [`'"hello"'`, `'{"Send": 5}'`, `'not json'`]) {
        const out = await node.answer(`m -a 60 our@${dir}:${dir}:template.os ${body}`, /^\{"Err":.*$/m);
        assertMatch(out, /^\{"Err":"expected \{\\"Send\\": \{\\"target\\": \\"<node>\\", \\"message\\".*\}$/m);
        assert(!/Cannot use|TypeError|Unexpected token/.test(out), out);
      }
      // What it takes still works.
      await node.answer(`m -a 60 our@${dir}:${dir}:template.os '{"History": "fake2.dev"}'`, /^\{"History":\[\]\}$/m);
    }
    // Ctrl-C says what stopping does: the home goes, with what its drives held (the book's way of putting files).
    const drive = `${home}/vfs/ping:template.os/files`;
    await Deno.mkdir(drive, { recursive: true });
    await Deno.writeFile(`${drive}/big.bin`, new Uint8Array(3 * 2 ** 20));
    await Deno.writeTextFile(`${drive}/my_file.txt`, "hello world\n");
    const status = await node.stop();
    assertEquals(status.code, 0);
    assertMatch(
      node.output,
      new RegExp(
        `stopping fake\\.dev; removing its home ${
          escape(home)
        } \\(2 files, 3\\.00 MiB in the files drive\\); --persist keeps it`,
      ),
    );
    assert(!await Deno.stat(home).then(() => true, () => false), "the home is gone");
  });
});

Deno.test("Ctrl-C on a --persist node says its home stays; booting it again says which downloads it resumes", async () => {
  await session("hyperdeno-newcomer-resume-", async ({ chain, work, boot }) => {
    const home = `${work}/home`;
    // fake2.dev registers on the chain and goes away: a download from it waits, interrupted, to resume.
    const provider = await bootNode({ name: "fake2.dev", network: { chainPort: chain.port, pollMs: 100 } });
    await provider.shutdown();
    await Deno.remove(provider.opts.home, { recursive: true });
    const port = freePort();
    let node = boot(port, home, ["--persist"]);
    await node.waitFor(/fake\.dev: node ready/, 60_000);
    const installed = await hyperdeno(REPO, "bs", "packages/file-transfer", "-p", String(port));
    assertEquals(installed.code, 0, installed.err);
    await node.answer(
      "download:file-transfer:template.os my_file.txt fake2.dev",
      /my_file\.txt from fake2\.dev: interrupted at 0 B \(.*\); resuming when it can/,
    );
    assertEquals((await node.stop()).code, 0);
    assertMatch(
      node.output,
      new RegExp(`stopping fake\\.dev; its home ${escape(home)} stays \\(no files in its drives\\): boot with -o`),
    );

    node = boot(port, home);
    await node.waitFor(/fake\.dev: node ready/, 60_000);
    await node.waitFor(/resuming 1 download: my_file\.txt from fake2\.dev/);
    assertEquals((await node.stop()).code, 0);
    assertMatch(node.output, /stopping fake\.dev; removing its home .*; --persist keeps it/);
  });
});

Deno.test("chat-files (new -t chat-files) answers a body it does not take in one line, not a JavaScript error", async () => {
  await withNode([`${PACKAGES}chat-files`], async (n) => {
    for (const body of ['"hello"', "[1]", "not json"]) {
      const r = await inject(n, "chat-files:chat-files:template.os", body);
      assertEquals(r.status, 200, r.error);
      assertMatch(r.body!, /^\{"Err":"expected a JSON object: \{\\"Send\\"/);
      assert(!/Cannot use|TypeError|Unexpected token/.test(r.body!), r.body);
    }
  });
});
