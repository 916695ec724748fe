/** __PACKAGE__-test: the fibonacci process answers known numbers, and refuses an n out of range. */
import { type Message, our, Request } from "@hyperdeno/process_lib";
import {
  FIBONACCI_PROCESS,
  type FibonacciRequest,
  type FibonacciResponse,
  MAX_N,
} from "@api/__PACKAGE__:__PUBLISHER__";
import { fail, pass, testMain } from "./tester_lib.ts";

const TEST = "__PACKAGE__-test";
const CASES: [FibonacciRequest, (r: FibonacciResponse) => boolean][] = [
  [{ Number: 0 }, (r) => "Number" in r && r.Number === 0],
  [{ Number: 10 }, (r) => "Number" in r && r.Number === 55],
  [{ Number: MAX_N }, (r) => "Number" in r && r.Number === 8944394323791464],
  [{ Numbers: [20, 100] }, (r) => "Numbers" in r && r.Numbers[0] === 6765],
  [{ Number: MAX_N + 1 }, (r) => "Err" in r],
];

async function test(run: Message, nodes: string[]) {
  const me = our().node;
  if (me !== nodes[0]) return pass(run);
  for (const [request, ok] of CASES) {
    const r = (await Request.to(`${me}@${FIBONACCI_PROCESS}`).json(request).sendAndAwaitResponse(5))
      .json<FibonacciResponse>();
    if (!ok(r)) return fail(run, TEST, `${JSON.stringify(request)} answered ${JSON.stringify(r)}`);
  }
  pass(run);
}

export default testMain(TEST, test);
