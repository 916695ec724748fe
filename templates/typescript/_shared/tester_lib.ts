/**
 * What a test package speaks with tester:sys (the book's Test Package
 * Interface): it is sent `{"Run": {...}}` and answers `{"Run": {"Ok": null}}`
 * or `{"Run": {"Err": {"test", "file", "line", "column"}}}`. `fail` marks
 * where the test failed, as tester_lib.rs's fail! does.
 */
import { awaitMessage, type Message, our, println, Response } from "@hyperdeno/process_lib";

export interface RunRequest {
  /** The nodes of the test, the first being the one that runs it ("master"). */
  input_node_names: string[];
  test_names: string[];
  test_timeout: number;
}

export interface FailResponse {
  test: string;
  file: string;
  line: number;
  column: number;
}

export type TesterRequest = { Run: RunRequest };
export type TesterResponse = { Run: { Ok: null } | { Err: FailResponse } };

/** Answers the tester's Run: the test passed. */
export function pass(run: Message) {
  Response.to(run).json({ Run: { Ok: null } } satisfies TesterResponse).send();
}

/** Answers the tester's Run with where the test failed (the caller's place), and prints why. */
export function fail(run: Message, test: string, why: string) {
  const at = new Error().stack?.split("\n")[2]?.match(/([^\s(]+):(\d+):(\d+)\)?$/);
  println(`${test}: FAIL: ${why}`);
  const failure: FailResponse = {
    test,
    file: at?.[1] ?? "?",
    line: Number(at?.[2] ?? 0),
    column: Number(at?.[3] ?? 0),
  };
  Response.to(run).json({ Run: { Err: failure } } satisfies TesterResponse).send();
}

/**
 * A test package's init: waits for the tester's Run (from our own node), runs
 * `test` with the Run and its nodes, and fails the test if it throws.
 */
export function testMain(test: string, body: (run: Message, nodes: string[]) => Promise<void>) {
  return async function init(_our: string) {
    let run = await awaitMessage();
    while (!run.isRequest() || run.source.node !== our().node) run = await awaitMessage();
    try {
      await body(run, run.json<TesterRequest>().Run.input_node_names);
    } catch (e) {
      fail(run, test, (e as Error).message);
    }
  };
}
