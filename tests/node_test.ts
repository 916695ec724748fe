/** Whole nodes: the user story from the README, restarts, and crashed homes. */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { cli, freePort, NodeProcess, ownChain } from "./cli_helpers.ts";
import { bootNode, inject, injectJson, install, removeHome, waitFor } from "../runtime/testing.ts";
import { PACKAGES } from "./helpers.ts";
import { ParseError } from "../runtime/types.ts";

const PING = "ping:ping:template.os";

Deno.test("user story: boot, build, start-package, inject-message, and the terminal's commands", async () => {
  const port = freePort();
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-cli-" });
  await Deno.remove(home);
  const node = new NodeProcess(["-p", String(port), "-o", home, ...ownChain("story.dev")]);
  try {
    await node.waitFor(/node ready in \d+ ms/);
    const built = await cli("build", `${PACKAGES}ping`);
    assertEquals(built.code, 0, built.err);
    assertMatch(built.out, /built ping:template\.os in \d+ ms: (bundled|up to date) pkg\/ping\.js/);
    const started = await cli("start-package", `${PACKAGES}ping`, "-p", String(port));
    assertEquals(started.code, 0, started.err);
    assertMatch(started.out, /started ping:template\.os/);
    const injected = await cli("inject-message", PING, '"ping"', "-p", String(port));
    assertEquals([injected.code, injected.out.trim()], [0, '"pong"'], injected.err);

    await node.type("echo hi");
    await node.waitFor(/^hi$/m);
    await node.type(`m -a 60 our@${PING} '"ping"'`);
    await node.waitFor(/^"pong"$/m);
    await node.type(`m -a 60 our@${PING} '"count"'`);
    await node.waitFor(/^\{"count":2\}$/m);
    await node.type("top");
    await node.waitFor(/ping:ping:template\.os\s+up \d+s\s+Restart\s+true/);
    await node.type("alias greet echo:terminal:sys");
    await node.waitFor(/alias greet set to echo:terminal:sys/);
    await node.type("greet hello from an alias");
    await node.waitFor(/^hello from an alias$/m);
    await node.type("alias");
    await node.waitFor(/greet\s+echo:terminal:sys/);
    await node.type("cat terminal:sys/pkg/scripts.json");
    await node.waitFor(/"echo\.js": \{/);
    await node.type("nonsense");
    await node.waitFor(/'nonsense' is not a script or an alias/);
    await node.type(`m -a 1 our@nobody:nothing:test.os '"x"'`);
    await node.waitFor(/is offline or not running/);
  } finally {
    node.kill("SIGINT");
    await node.exited();
  }
  let removed = false;
  try {
    await Deno.stat(home);
  } catch {
    removed = true;
  }
  assert(removed, "a fake node's home is removed on exit without --persist");
});

Deno.test("the CLI explains bad arguments and absent nodes", async () => {
  const noNode = await cli("inject-message", PING, '"ping"', "-p", String(freePort()));
  assertEquals(noNode.code, 2);
  assertMatch(noNode.err, /no node answers on port \d+: start one with `hyperdeno boot-fake-node -p \d+`/);
  const badJson = await cli("inject-message", PING, "ping", "-p", "1");
  assertMatch(badJson.err, /BODY_JSON is not JSON/);
  const badFlag = await cli("boot-fake-node", "--prot", "1");
  assertMatch(badFlag.err, /unknown flag --prot/);
  const badPort = await cli("boot-fake-node", "-p", "http");
  assertMatch(badPort.err, /--port must be a port number/);
  const help = await cli("inject-message", "--help");
  assertMatch(help.out, /-l, --non-block/);
  const notPkg = await cli("build", "/tmp");
  assertEquals(notPkg.code, 2);
  assertMatch(notPkg.err, /is not a package \(no metadata\.json\)/);
});

Deno.test("a restarted node brings back its processes, capabilities and state", async () => {
  let n = await bootNode();
  const home = n.opts.home;
  try {
    await install(n, `${PACKAGES}ping`);
    for (let i = 0; i < 3; i++) assertEquals(await injectJson(n, PING, "ping"), "pong");
    n.terminal.command("alias hey echo:terminal:sys");
    await waitFor("alias saved", () => n.lines.some((l) => l.includes("alias hey set")));
    const capsBefore = n.kernel.processes.get(PING)!.capabilities;
    await n.shutdown();

    n = await bootNode({ home });
    assertEquals(await injectJson(n, PING, "count"), { count: 3 });
    assertEquals(n.kernel.processes.get(PING)!.capabilities, capsBefore);
    n.terminal.command("hey still here");
    await waitFor("the alias to work after restart", () => n.lines.includes("still here"));
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("a node killed with SIGKILL resumes from its home with nothing corrupted", async () => {
  const port = freePort();
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-kill-" });
  const node = new NodeProcess(["-p", String(port), "-o", home, "--persist", ...ownChain("kill.dev")]);
  try {
    await node.waitFor(/node ready/);
    assertEquals((await cli("start-package", `${PACKAGES}ping`, "-p", String(port))).code, 0);
    for (let i = 0; i < 5; i++) {
      assertEquals((await cli("inject-message", PING, '"ping"', "-p", String(port))).out.trim(), '"pong"');
    }
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    node.kill("SIGKILL");
    await node.exited();
  }
  // A torn write from the crash: a half-written temp file beside the real one.
  await Deno.writeTextFile(`${home}/kernel/process_map.json.tmp-deadbeef`, '{"half": ');
  const n = await bootNode({ home, name: "kill.dev" });
  try {
    assertEquals(await injectJson(n, PING, "count"), { count: 5 });
    let tempGone = false;
    try {
      await Deno.stat(`${home}/kernel/process_map.json.tmp-deadbeef`);
    } catch {
      tempGone = true;
    }
    assert(tempGone, "stale temp files are cleaned up");
  } finally {
    await n.shutdown();
  }
  // A corrupt process map is reported, never silently replaced.
  await Deno.writeTextFile(`${home}/kernel/process_map.json`, "{ not json");
  await assertRejects(() => bootNode({ home, name: "kill.dev" }), SyntaxError);
  await Deno.writeTextFile(`${home}/kernel/process_map.json`, "[1,2]");
  await assertRejects(() => bootNode({ home, name: "kill.dev" }), ParseError, "is not a process map");
  await Deno.remove(home, { recursive: true });
});

Deno.test("a home is bound to its node's name", async () => {
  const n = await bootNode();
  await n.shutdown();
  await assertRejects(() => bootNode({ home: n.opts.home, name: "other.dev" }), ParseError, "holds node fake.dev");
  await removeHome(n);
});

Deno.test("timer: SetTimer answers after the delay", async () => {
  const n = await bootNode();
  try {
    const t0 = performance.now();
    const r = await inject(n, "timer:distro:sys", JSON.stringify({ SetTimer: 150 }), { timeout: 5 });
    const ms = performance.now() - t0;
    assertEquals([r.status, r.body], [200, ""]);
    // Not before its 150 ms; the upper bound is the injection's 5 s (a timer lost, not a late one on a busy machine).
    assert(ms >= 140 && ms < 4500, `popped after ${ms} ms`);
    const bad = await inject(n, "timer:distro:sys", '{"SetTimer": -1}', { timeout: 0.5 });
    assertEquals(bad.error, "Timeout");
    assert(n.lines.some((l) => l.includes("bad TimerAction")));
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("fake-net: two nodes and a chain in one terminal, homes under --home; hi and m cross between them", async () => {
  const port = freePort(), chainPort = freePort();
  const homes = await Deno.makeTempDir({ prefix: "hyperdeno-fake-net-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...(await import("./cli_helpers.ts")).RUN_FLAGS,
      ...["fake-net", "-p", String(port), "-c", String(chainPort), "--home", homes],
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const dec = new TextDecoder();
  const pump = (s: ReadableStream<Uint8Array>) =>
    (async () => {
      for await (const c of s) out += dec.decode(c, { stream: true });
    })();
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const stdin = child.stdin.getWriter();
  const type = (l: string) => stdin.write(new TextEncoder().encode(l + "\n"));
  const until = async (re: RegExp) => {
    // A bound for a hung run, not a speed check: a loaded machine boots two nodes slowly.
    const t = Date.now() + 120_000;
    while (!re.test(out)) {
      if (Date.now() > t) throw new Error(`never saw ${re} in:\n${out}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  try {
    await until(/\[fake\.dev\] fake\.dev: node ready/);
    await until(/\[fake2\.dev\] fake2\.dev: node ready/);
    for (const name of ["fake.dev", "fake2.dev"]) assert(Deno.statSync(`${homes}/${name}/keys.json`).isFile, name);
    await type("@fake2.dev hi fake.dev hello!");
    await until(/\[fake\.dev\] .*fake2\.dev.*: hello!/);
    assertEquals((await cli("build", `${PACKAGES}ping`)).code, 0);
    assertEquals((await cli("start-package", `${PACKAGES}ping`, "-p", String(port))).code, 0);
    await type(`@fake2.dev m -a 60 fake.dev@${PING} '"ping"'`);
    await until(/\[fake2\.dev\] "pong"/);
    // A node killed (as when testing a transfer's resume) leaves the other running, and comes back on its home.
    const pgrep = await new Deno.Command("pgrep", {
      args: ["-f", `boot-fake-node -f fake2.dev -p ${port + 1}`],
      stdout: "piped",
    })
      .output();
    const pid = Number(new TextDecoder().decode(pgrep.stdout).trim().split("\n")[0]);
    assert(pid > 0, "fake2.dev's node process");
    Deno.kill(pid, "SIGKILL");
    await until(/\[fake2\.dev\] the node was killed \(SIGKILL\); the others run on\. "@fake2\.dev restart"/);
    await type(`@fake2.dev m -a 60 fake.dev@${PING} '"ping"'`);
    await until(/fake2\.dev is not running: "@fake2\.dev restart" starts it again/);
    await type(`m -a 60 fake.dev@${PING} '"ping"'`);
    await until(/\[fake\.dev\] "pong"/);
    await type("@fake2.dev restart");
    await until(/(\[fake2\.dev\] fake2\.dev: node ready[^]*){2}/);
    await type(`@fake2.dev m -a 60 fake.dev@${PING} '"ping"'`);
    await until(/(\[fake2\.dev\] "pong"[^]*){2}/);
  } finally {
    child.kill("SIGINT");
    await stdin.close().catch(() => {});
    await child.status;
    await done;
  }
  assertMatch(out, /dev chain started on port \d+/);
  assertEquals([...Deno.readDirSync(homes)], [], "without --persist each node removed its home");
  await Deno.remove(homes, { recursive: true });
});

Deno.test("state module: the runtime reads process state through state:distro:sys", async () => {
  const n = await bootNode();
  try {
    await install(n, `${PACKAGES}ping`);
    assertEquals(await injectJson(n, PING, "ping"), "pong");
    const got = await inject(n, "state:distro:sys", JSON.stringify({ GetState: PING }));
    assertEquals(got.body, '"GetState"');
    assertEquals(atob(got.blob!), "1");
    const missing = await inject(n, "state:distro:sys", JSON.stringify({ GetState: "nobody:ping:template.os" }));
    assertEquals(JSON.parse(missing.body!), { Err: { NotFound: "nobody:ping:template.os" } });
    assertEquals(JSON.parse((await inject(n, "state:distro:sys", "{bad")).body!).Err.BadRequest !== undefined, true);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});
