/**
 * The API of tester:sys, the book's Test Package Interface: the tester sends
 * each test package `{"Run": RunRequest}`, and the test answers
 * `{"Run": {"Ok": null}}` or `{"Run": {"Err": FailResponse}}` (the older
 * `"Pass"` and `{"Fail": FailResponse}` are understood too). run-tests sends
 * the same Run to tester:tester:sys and hears the same answer.
 */
export interface RunRequest {
  /** The test's nodes; the first runs the tests, the others answer Ok at once. */
  input_node_names: string[];
  /** Test packages loaded into /tester:sys/tests/<name>.js, run in order. */
  test_names: string[];
  /** Seconds each test may take. */
  test_timeout: number;
}

export interface FailResponse {
  test: string;
  file: string;
  line: number;
  column: number;
}

export type TesterRequest = { Run: RunRequest };
export type TesterResponse = { Run: { Ok: null } | { Err: FailResponse } } | "Pass" | { Fail: FailResponse };
