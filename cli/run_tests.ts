/**
 * `run-tests` (t): the book's `kit run-tests`. For each [[tests]] of a
 * tests.toml: build the setup and test packages, boot fresh fake nodes (the
 * first starts a fresh fake chain on fakechain_router), install tester:sys
 * and the setup packages on each, load the test packages into the first
 * node's /tester:sys/tests drive, and ask tester:tester:sys to Run them: it
 * answers Ok or the first failure. Then the nodes stop and their homes go
 * (unless persist_home).
 */
import { type CommandSpec, parseFlags, UsageError } from "./flags.ts";
import { findTestsFile, readTestsFile, type TestConfig, type TestsFile } from "./tests_toml.ts";
import { NodeProcess } from "./node_process.ts";
import { buildWithFlags } from "./build.ts";
import { startPackage } from "./start_package.ts";
import { askNode, postToNode } from "./node_client.ts";
import { readPackageDir } from "./package_dir.ts";
import { parseManifest } from "../runtime/packages/manifest.ts";
import { encodeBase64 } from "../runtime/bytes.ts";
import { VFS } from "../runtime/api/processes.ts";
import { COMPILED } from "./run_args.ts";
import { exists } from "../runtime/fs.ts";

export const spec: CommandSpec = {
  name: "run-tests",
  summary: "Run hyperdeno tests (a tests.toml: fresh fake nodes, setup packages, test packages run by tester:sys)",
  usage: "hyperdeno run-tests [PATH]",
  positionals: [{
    name: "[PATH]",
    help: "Path to tests configuration file, or a package folder with test/tests.toml",
    default: "tests.toml",
  }],
  flags: [],
};

const TESTER = new URL("../packages/tester", import.meta.url).pathname;
const TESTER_PROCESS = "tester:tester:sys";

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parseFlags(spec, argv);
  const given = positionals[0] === "tests.toml" && !exists("tests.toml") ? "." : positionals[0];
  const file = readTestsFile(findTestsFile(given));
  let failed = 0;
  for (const [i, test] of file.tests.entries()) {
    const label = `test ${i + 1}/${file.tests.length} of ${file.path}`;
    const ok = await runTest(file, test, label);
    if (!ok) failed++;
  }
  console.log(
    failed ? `run-tests: ${failed} of ${file.tests.length} failed` : `run-tests: all ${file.tests.length} passed`,
  );
  return failed ? 1 : 0;
}

/** A port nothing listens on yet, or a UsageError saying which and why it matters. */
function checkFree(port: number, what: string) {
  try {
    Deno.listen({ port, hostname: "127.0.0.1" }).close();
  } catch {
    throw new UsageError(
      `port ${port} (${what}) is in use: stop the fake nodes or chain using it (tests boot fresh ones), or change it in tests.toml`,
    );
  }
}

/** A node home run-tests may replace: absent, empty, or a node's home from an earlier run. */
function clearHome(home: string) {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(home)].map((e) => e.name);
  } catch {
    return;
  }
  if (entries.length && !entries.includes("identity.json")) {
    throw new UsageError(`${home} is not a node home (no identity.json): give the test nodes homes of their own`);
  }
  Deno.removeSync(home, { recursive: true });
}

async function runTest(file: TestsFile, test: TestConfig, label: string): Promise<boolean> {
  for (const n of test.nodes) checkFree(n.port, `node ${n.fake_node_name}`);
  checkFree(test.fakechain_router, "fakechain_router");
  const local = [...test.dependency_package_paths, ...test.setup_packages.map((s) => s.path)];
  const buildFlags = {
    "local-dependency": local,
    port: String(test.nodes[0].port),
    include: [],
    exclude: [],
    "add-to-api": [],
  };
  for (const dir of new Set([...test.dependency_package_paths, ...test.setup_packages.map((s) => s.path)])) {
    await buildWithFlags(dir, buildFlags);
  }
  for (const dir of test.test_package_paths) await buildWithFlags(dir, { ...buildFlags, features: "test" });
  // A compiled hyperdeno carries tester:sys prebuilt (and cannot write beside it).
  if (!COMPILED) await buildWithFlags(TESTER, buildFlags);

  const scripts = test.setup_scripts.map((line) => bash(line, file.dir));
  const nodes: NodeProcess[] = [];
  let passed = false;
  const t0 = performance.now();
  try {
    console.log(`${label}: booting ${test.nodes.map((n) => `${n.fake_node_name} (${n.port})`).join(", ")}`);
    for (const n of test.nodes) {
      clearHome(n.home);
      const args = ["-o", n.home, "-c", String(test.fakechain_router), "--verbosity", String(n.runtime_verbosity)];
      if (n.password) args.push("--password", n.password);
      if (file.persist_home) args.push("--persist");
      const node = new NodeProcess(n.fake_node_name, n.port, args, file.runtime ?? undefined);
      nodes.push(node);
      await node.ready();
    }
    const quiet = () => {};
    for (const node of nodes) {
      await startPackage(TESTER, node.port, quiet);
      for (const s of test.setup_packages) {
        if (s.run) await startPackage(s.path, node.port, quiet);
        else await loadFiles(node.port, s.path, "setup");
      }
    }
    await loadTests(nodes[0].port, test.test_package_paths);
    const failure = await runTester(nodes, test);
    for (const line of test.test_scripts) {
      if (failure) break;
      const status = await bash(line, file.dir).status;
      if (!status.success) throw new TestFailed(`test script \`${line}\` exited with code ${status.code}`);
    }
    if (failure) throw new TestFailed(failure);
    passed = true;
    console.log(`${label}: PASS ${names(test)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    if (!(e instanceof TestFailed || e instanceof UsageError || e instanceof Error)) throw e;
    console.log(`${label}: FAIL ${names(test)}: ${(e as Error).message}`);
  } finally {
    for (const s of scripts) {
      try {
        s.kill("SIGTERM");
      } catch { /* ended */ }
    }
    await Promise.all(nodes.map((n) => n.stop()));
    if (!passed || file.always_print_node_output) {
      for (const n of nodes) console.log(`--- ${n.name} (port ${n.port}) output ---\n${n.output.trim()}`);
    }
  }
  return passed;
}

class TestFailed extends Error {}

const names = (test: TestConfig) => test.test_package_paths.map(testName).join(", ");
const testName = (dir: string) => dir.slice(dir.lastIndexOf("/") + 1);

function bash(line: string, cwd: string): Deno.ChildProcess {
  return new Deno.Command("bash", { args: ["-c", line], cwd, stdout: "inherit", stderr: "inherit" }).spawn();
}

/** Writes one file into the node's VFS through its local message endpoint. */
async function writeFile(port: number, path: string, bytes: Uint8Array) {
  const { status, json } = await postToNode(port, "/rpc:distro:sys/message", {
    process: VFS,
    node: null,
    body: JSON.stringify({ path, action: "Write" }),
    blob: encodeBase64(bytes),
    expects_response: 15,
  });
  if (status !== 200 || JSON.parse(String(json.body)) !== "Ok") {
    throw new TestFailed(`could not write ${path} on port ${port}: ${json.error ?? json.body}`);
  }
}

/** A setup package that is loaded, not run: its built files go to /tester:sys/setup/. */
async function loadFiles(port: number, dir: string, drive: string) {
  await askNode(port, VFS, { path: `/tester:sys/${drive}`, action: "CreateDrive" });
  for (const e of Deno.readDirSync(`${dir}/pkg`)) {
    if (e.isFile && e.name.endsWith(".js")) {
      await writeFile(port, `/tester:sys/${drive}/${e.name}`, Deno.readFileSync(`${dir}/pkg/${e.name}`));
    }
  }
}

/**
 * Each test package's one process, as /tester:sys/tests/<test name>.js, and
 * what its manifest asks for in /tester:sys/tests/capabilities.json.
 */
async function loadTests(port: number, dirs: string[]) {
  await askNode(port, VFS, { path: "/tester:sys/tests", action: "CreateDrive" });
  const caps: Record<string, unknown> = {};
  for (const dir of dirs) {
    const { packageId } = readPackageDir(dir);
    const manifest = parseManifest(Deno.readTextFileSync(`${dir}/pkg/manifest.json`), `${dir}/pkg/manifest.json`);
    if (manifest.length !== 1) {
      throw new UsageError(`${dir}: a test package has exactly one process (${packageId} has ${manifest.length})`);
    }
    const [entry] = manifest;
    const file = entry.process_wasm_path.replace(/^\//, "").replace(/\.wasm$/, ".js");
    const name = testName(dir);
    await writeFile(port, `/tester:sys/tests/${name}.js`, Deno.readFileSync(`${dir}/pkg/${file}`));
    caps[name] = {
      request_networking: entry.request_networking,
      request_capabilities: entry.request_capabilities,
      grant_capabilities: entry.grant_capabilities,
    };
  }
  await writeFile(port, "/tester:sys/tests/capabilities.json", new TextEncoder().encode(JSON.stringify(caps)));
}

/** Sends Run to every node's tester (the first last); returns null on Ok, else what failed. */
async function runTester(nodes: NodeProcess[], test: TestConfig): Promise<string | null> {
  const run = {
    Run: {
      input_node_names: nodes.map((n) => n.name),
      test_names: test.test_package_paths.map(testName),
      test_timeout: test.timeout_secs,
    },
  };
  for (const node of [...nodes.slice(1), nodes[0]]) {
    const master = node === nodes[0];
    const { status, json } = await postToNode(node.port, "/rpc:distro:sys/message", {
      process: TESTER_PROCESS,
      node: null,
      body: JSON.stringify(run),
      blob: null,
      expects_response: master ? test.timeout_secs * test.test_package_paths.length + 5 : 15,
    });
    if (status !== 200) {
      return `${TESTER_PROCESS} on ${node.name} did not answer (${json.error}): ${
        json.error === "Timeout" ? `the tests took longer than timeout_secs (${test.timeout_secs})` : "see its output"
      }`;
    }
    const answer = JSON.parse(String(json.body));
    const err = answer?.Run?.Err ?? answer?.Fail;
    // The tester's own failures (a timeout, a test that would not start) carry their reason as the file, at 0:0.
    if (err) {
      return err.line
        ? `${err.test} failed at ${err.file}:${err.line}:${err.column}`
        : `${err.test} failed: ${err.file}`;
    }
    if (answer?.Run?.Ok === undefined && answer !== "Pass") return `${TESTER_PROCESS} answered ${json.body}`;
  }
  return null;
}
