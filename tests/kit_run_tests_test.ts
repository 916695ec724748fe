/**
 * `run-tests` with the templates' own tests: fresh fake nodes and a fresh
 * chain per test, setup packages installed, test packages run by tester:sys
 * answering Run with Ok or Err. Ports are moved to free ones (the templates
 * say 8080/8081/8545, as the book's do).
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, freePort } from "./cli_helpers.ts";
import { freeTestPorts } from "./kit_helpers.ts";
import { FIXTURES, PACKAGES } from "./helpers.ts";

async function newPackage(dir: string, name: string, ...flags: string[]): Promise<string> {
  const r = await cli("new", `${dir}/${name}`, ...flags);
  assertEquals(r.code, 0, r.err);
  await freeTestPorts(`${dir}/${name}/test/tests.toml`, [freePort(), freePort(), freePort()]);
  return `${dir}/${name}`;
}

Deno.test("each template's tests pass out of the box: chat across two nodes, fibonacci, echo in JavaScript", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-rt-" });
  for (
    const [name, flags] of [["my-chat", []], ["fib", ["-t", "fibonacci"]], ["js-echo", [
      "-t",
      "echo",
      "-l",
      "javascript",
    ]]] as const
  ) {
    const pkg = await newPackage(dir, name, ...flags);
    const r = await cli("run-tests", pkg);
    assertEquals(r.code, 0, r.out + r.err);
    assertMatch(r.out, new RegExp(`test 1/1 of .*/${name}/test/tests\\.toml: PASS ${name}-test in [\\d.]+ s`));
    assertMatch(r.out, /run-tests: all 1 passed/);
    // Fresh homes each time, removed afterwards (persist_home = false).
    for (const home of ["first", "second"]) {
      let gone = false;
      try {
        await Deno.stat(`${pkg}/test/home/${home}`);
      } catch {
        gone = true;
      }
      assert(gone, `${name}: home/${home} removed`);
    }
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a failing test package fails the run: its place, the nodes' output, exit code 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-rtfail-" });
  const pkg = await newPackage(dir, "broken-echo", "-t", "echo");
  // The echo process now answers with something else: the test must notice.
  const main = `${pkg}/broken-echo/main.ts`;
  await Deno.writeTextFile(
    main,
    (await Deno.readTextFile(main)).replace("body(msg.body())", 'body("not what you sent")'),
  );
  const r = await cli("run-tests", `${pkg}/test/tests.toml`);
  assertEquals(r.code, 1, r.out + r.err);
  assertMatch(r.out, /FAIL broken-echo-test: broken-echo-test failed at \S+:\d+:\d+/);
  assertMatch(r.out, /--- first\.dev \(port \d+\) output ---/);
  assertMatch(r.out, /broken-echo-test: FAIL: sent "hello", got "not what you sent"/);
  assertMatch(r.out, /run-tests: 1 of 1 failed/);

  // A test that never answers fails at timeout_secs.
  const testMain = `${pkg}/test/broken-echo-test/broken-echo-test/main.ts`;
  await Deno.writeTextFile(
    testMain,
    `export default function init(_our: string) {\n  return new Promise(() => {});\n}\n`,
  );
  const toml0 = `${pkg}/test/tests.toml`;
  await Deno.writeTextFile(toml0, (await Deno.readTextFile(toml0)).replace("timeout_secs = 5", "timeout_secs = 2"));
  const hung = await cli("run-tests", pkg);
  assertEquals(hung.code, 1, hung.out + hung.err);
  assertMatch(hung.out, /FAIL broken-echo-test: broken-echo-test failed: no answer within 2 s$/m);

  // A port that is taken is refused before anything boots, in one line.
  const busy = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const toml = `${pkg}/test/tests.toml`;
  await Deno.writeTextFile(
    toml,
    (await Deno.readTextFile(toml)).replace(/^port = \d+$/m, `port = ${(busy.addr as Deno.NetAddr).port}`),
  );
  const refused = await cli("run-tests", toml);
  busy.close();
  assertEquals(refused.code, 2);
  assertMatch(refused.err, /port \d+ \(node first\.dev\) is in use: stop the fake nodes or chain using it/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tests.toml: several [[tests]], setup scripts beside the nodes, test scripts after them, a setup package only loaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-rtscripts-" });
  const pkg = await newPackage(dir, "scripted", "-t", "echo");
  const [a, b, c] = [freePort(), freePort(), freePort()];
  const test = (port: number, script: string) => `
[[tests]]
dependency_package_paths = [".."]
setup_packages = [{ path = "..", run = true }, { path = "../../loaded", run = false }]
setup_scripts = ["touch setup-ran"]
test_package_paths = ["scripted-test"]
test_scripts = ["${script}"]
timeout_secs = 5
fakechain_router = ${c}

[[tests.nodes]]
port = ${port}
home = "home/first"
fake_node_name = "first"
`;
  assertEquals((await cli("new", `${dir}/loaded`, "-t", "echo")).code, 0);
  await Deno.writeTextFile(
    `${pkg}/test/scripts.toml`,
    `persist_home = false\n${test(a, "test -f setup-ran")}${test(b, "exit 3")}`,
  );
  const r = await cli("run-tests", `${pkg}/test/scripts.toml`);
  assertEquals(r.code, 1, r.out + r.err);
  assertMatch(r.out, /test 1\/2 of .*scripts\.toml: PASS scripted-test/);
  assertMatch(r.out, /test 2\/2 of .*scripts\.toml: FAIL scripted-test: test script `exit 3` exited with code 3/);
  // "first" without a dot is first.dev, as kit names fake nodes.
  assertMatch(r.out, /booting first\.dev \(\d+\)/);
  assertMatch(r.out, /run-tests: 1 of 2 failed/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the repo's own cross-node check as a run-tests test: packages/ping on three nodes, pinged from the first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-rtping-" });
  const node = (name: string) =>
    `\n[[tests.nodes]]\nport = ${freePort()}\nhome = "home/${name}"\nfake_node_name = "${name}"\n`;
  await Deno.writeTextFile(
    `${dir}/tests.toml`,
    `[[tests]]
setup_packages = [{ path = "${PACKAGES}ping", run = true }]
test_package_paths = ["${FIXTURES}kit_ping_test"]
timeout_secs = 30
fakechain_router = ${freePort()}
${node("first")}${node("second")}${node("third")}`,
  );
  const r = await cli("run-tests", `${dir}/tests.toml`);
  assertEquals(r.code, 0, r.out + r.err);
  assertMatch(r.out, /booting first\.dev \(\d+\), second\.dev \(\d+\), third\.dev \(\d+\)/);
  assertMatch(r.out, /PASS kit_ping_test in/);
  await Deno.remove(dir, { recursive: true });
});
