/** The node's flags are stated once (deno.json's hyperdeno task); every task that boots a node or runs tests uses them. */
import { assert, assertEquals } from "./assert.ts";
import config from "../deno.json" with { type: "json" };
import { NODE_FLAGS, RUN_ARGS, TEST_FLAGS } from "../cli/run_args.ts";

const tasks = config.tasks as Record<string, string>;

Deno.test("the commands of main.ts all go through the hyperdeno task", () => {
  for (const name of ["node", "fake-net", "chain", "build", "start-package", "inject-message"]) {
    assert(tasks[name].startsWith("deno task hyperdeno "), `${name}: ${tasks[name]}`);
  }
});

Deno.test("RUN_ARGS starts a command with the hyperdeno task's flags, worker options among them", () => {
  assertEquals(RUN_ARGS.slice(1, -1), NODE_FLAGS);
  assert(NODE_FLAGS.includes("--unstable-worker-options"));
});

Deno.test("the tasks that run tests, benchmarks or a compiled node carry the same flags", () => {
  for (const name of ["bench", "compile"]) {
    const words = tasks[name].split(/\s+/);
    assertEquals(words.filter((w) => NODE_FLAGS.includes(w)), NODE_FLAGS, name);
  }
  // The test task's runner gives each file's deno test TEST_FLAGS.
  assert(tasks.test.endsWith(" scripts/test.ts"), tasks.test);
  assertEquals(TEST_FLAGS.filter((w) => NODE_FLAGS.includes(w)), NODE_FLAGS);
});
