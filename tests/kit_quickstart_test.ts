/**
 * The book's Quick Start with hyperdeno in place of kit, run as a user would:
 * `hyperdeno` installed with one command, every step run from a folder
 * outside the checkout (ports moved off 8080/8081/8545, which other work on
 * this machine may hold; everything else as the book has it).
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { freePort } from "./cli_helpers.ts";
import { installHyperdeno, run, ShellNode } from "./kit_helpers.ts";

const CHAT = "my-chat-app:my-chat-app:template.os";

Deno.test("the Quick Start: two fake nodes, a chat app from the template, messages both ways", async () => {
  const bin = await installHyperdeno();
  const cwd = await Deno.makeTempDir({ prefix: "hyperdeno-kit-qs-" });
  const [p1, p2, chain] = [freePort(), freePort(), freePort()];
  assertMatch((await run(bin, cwd, "--version")).out, /^hyperdeno \d+\.\d+\.\d+ \(deno /);
  const n1 = new ShellNode(bin, cwd, ["boot-fake-node", "-p", String(p1), "-c", String(chain), "-o", `${cwd}/n1`]);
  const n2 = new ShellNode(bin, cwd, ["f", "-o", `${cwd}/n2`, "-p", String(p2), "-c", String(chain), "-f", "fake2"]);
  try {
    // A first run says who it is, where its page is, how to log in and what to type next.
    await n1.waitFor(/fake\.dev: node ready/);
    assertMatch(n1.output, new RegExp(`home page\\s+http://localhost:${p1}/\\s+log in with the password "secret"`));
    assertMatch(
      n1.output,
      new RegExp(`next\\s+hyperdeno new my-app && hyperdeno build my-app && hyperdeno start-package my-app -p ${p1}`),
    );
    // kit's naming: -f fake2 is fake2.dev.
    await n2.waitFor(/fake2\.dev: node ready/);

    const created = await run(bin, cwd, "new", "my-chat-app");
    assertEquals(created.code, 0, created.err);
    const built = await run(bin, cwd, "build", "my-chat-app");
    assertEquals(built.code, 0, built.err);
    assertMatch(built.out, /built my-chat-app:template\.os .*bundled pkg\/my-chat-app\.js, pkg\/send\.js/);
    assertMatch(built.out, /my-chat-app:template\.os\.zip \(\d+ bytes\) sha256 [0-9a-f]{64}/);
    assert((await Deno.stat(`${cwd}/my-chat-app/target/my-chat-app:template.os.zip`)).isFile);
    for (const p of [p1, p2]) {
      const started = await run(bin, cwd, "start-package", "my-chat-app", "-p", String(p));
      assertEquals(started.code, 0, started.err);
      assertMatch(
        started.out,
        new RegExp(`started my-chat-app:template\\.os on port ${p}: ${CHAT}; scripts send\\.js`),
      );
    }

    const inject = async (body: object, ...args: string[]) => {
      const r = await run(bin, cwd, "inject-message", CHAT, JSON.stringify(body), ...args);
      assertEquals([r.code, r.out.trim()], [0, '"Send"'], r.err);
    };
    await inject({ Send: { target: "fake2.dev", message: "hello from the outside world" } }, "-p", String(p1));
    await n2.waitFor(/fake\.dev: hello from the outside world/);
    await inject(
      { Send: { target: "fake.dev", message: "replying from fake2.dev using first method..." } },
      "--node",
      "fake2.dev",
      "-p",
      String(p1),
    );
    await n1.waitFor(/fake2\.dev: replying from fake2\.dev using first method\.\.\./);
    await inject({ Send: { target: "fake.dev", message: "and second!" } }, "-p", String(p2));
    await n1.waitFor(/fake2\.dev: and second!/);

    // From the nodes' terminals.
    await n1.type(`m our@${CHAT} '{"Send": {"target": "fake2.dev", "message": "hello world"}}'`);
    await n2.waitFor(/fake\.dev: hello world/);
    await n2.type(`m our@${CHAT} '{"Send": {"target": "fake.dev", "message": "wow, it works!"}}'`);
    await n1.waitFor(/fake2\.dev: wow, it works!/);

    // The template's script gets its argument string; what it returns is printed; an alias runs it.
    await n1.type("send:my-chat-app:template.os fake2.dev from the send script");
    await n1.waitFor(/^sent to fake2\.dev$/m);
    await n2.waitFor(/fake\.dev: from the send script/);
    await n1.type("alias send send:my-chat-app:template.os");
    await n1.waitFor(/alias send set to send:my-chat-app:template\.os/);
    await n1.type("send fake2.dev through an alias");
    await n2.waitFor(/fake\.dev: through an alias/);
    await n1.type("send");
    await n1.waitFor(/Usage: send:my-chat-app:template\.os <TARGET_NODE> <MESSAGE>/);

    // The chat's history, asked of the other node.
    const history = await run(bin, cwd, "inject-message", CHAT, '{"History": "fake.dev"}', "-p", String(p2));
    const messages = JSON.parse(history.out).History.map((m: { content: string }) => m.content);
    assertEquals(messages.slice(0, 2), [
      "hello from the outside world",
      "replying from fake2.dev using first method...",
    ]);
  } finally {
    await n1.stop();
    await n2.stop();
  }
  await Deno.remove(cwd, { recursive: true });
  await Deno.remove(bin.replace(/\/bin\/hyperdeno$/, ""), { recursive: true });
});

Deno.test("defaults as kit's: port 8080, fake chain 8545, home /tmp/hyperware-fake-node (the book's), name fake.dev; help only when asked", async () => {
  const bin = await installHyperdeno();
  const cwd = await Deno.makeTempDir({ prefix: "hyperdeno-kit-help-" });
  const help = await run(bin, cwd, "boot-fake-node", "--help");
  assertMatch(help.out, /-p, --port <NODE_PORT>\s+The port to run the fake node on \[default: 8080\]/);
  assertMatch(
    help.out,
    /-o, --home <HOME>\s+Path to home directory for fake node \[default: \/tmp\/hyperware-fake-node\]/,
  );
  assertMatch(help.out, /-f, --fake-node-name <NODE_NAME>\s+.*\[default: fake\.dev\]/);
  assertMatch(help.out, /-c, --fakechain-port <FAKECHAIN_PORT>\s+.*\[default: 8545\]/);
  const top = await run(bin, cwd, "--help");
  for (
    const c of [
      "new",
      "build",
      "build-start-package",
      "remove-package",
      "run-tests",
      "view-api",
      "connect",
      "reset-cache",
    ]
  ) {
    assertMatch(top.out, new RegExp(`^  ${c} `, "m"));
  }
  // Every error is one line that says what to do; no usage block follows.
  const errors = [
    await run(bin, cwd, "frobnicate"),
    await run(bin, cwd, "build"),
    await run(bin, cwd, "build", "--world", "x"),
    await run(bin, cwd, "new", "x", "--language", "rust"),
    await run(bin, cwd, "new", "Bad_Name"),
    await run(bin, cwd, "new", "x", "--template", "nope"),
    await run(bin, cwd, "start-package", "-p", String(freePort())),
    await run(bin, cwd, "inject-message", "a:b:c", '"x"', "-p", String(freePort())),
    await run(bin, cwd, "boot-fake-node", "--prot", "1"),
    await run(bin, cwd, "run-tests"),
    await run(bin, cwd, "connect"),
    await run(bin, cwd, "view-api", "-p", String(freePort())),
  ];
  for (const e of errors) {
    assert(e.code !== 0, `should fail: ${e.out}`);
    assertEquals(e.err.trim().split("\n").length, 1, `one line: ${e.err}`);
    assert(!/Usage:|Options:/.test(e.err), `no usage block: ${e.err}`);
  }
  assertMatch(errors[0].err, /unknown command "frobnicate"; `hyperdeno --help` lists the commands/);
  assertMatch(
    errors[1].err,
    /this folder is not a package \(no metadata\.json\): create one with `hyperdeno new <NAME>`/,
  );
  assertMatch(errors[2].err, /--world is not supported by hyperdeno: there are no WIT worlds/);
  assertMatch(errors[3].err, /hyperdeno writes processes in typescript or javascript, not rust/);
  assertMatch(errors[4].err, /package name "Bad_Name" must contain only a-z, 0-9 and -/);
  assertMatch(errors[7].err, /no node answers on port \d+: start one with `hyperdeno boot-fake-node -p \d+`/);
  assertMatch(errors[9].err, /no tests\.toml at \.\/tests\.toml or \.\/test\/tests\.toml/);
  assertMatch(errors[10].err, /--host is needed/);
  await Deno.remove(cwd, { recursive: true });
  await Deno.remove(bin.replace(/\/bin\/hyperdeno$/, ""), { recursive: true });
});
