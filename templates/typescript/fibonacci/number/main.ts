/** number:__PACKAGE__:__PUBLISHER__ — a script: `number:__PACKAGE__:__PUBLISHER__ <N>` prints the N-th Fibonacci number. */
import { Request, script } from "@hyperdeno/process_lib";
import { FIBONACCI_PROCESS, type FibonacciResponse } from "@api/__PACKAGE__:__PUBLISHER__";

export default script(async (our, args) => {
  const n = Number(args.trim());
  if (!args.trim() || !Number.isInteger(n)) return "Usage: number:__PACKAGE__:__PUBLISHER__ <N>";
  const r = (await Request.to(`${our.node}@${FIBONACCI_PROCESS}`).json({ Number: n }).sendAndAwaitResponse(5))
    .json<FibonacciResponse>();
  return "Number" in r ? String(r.Number) : "Err" in r ? `error: ${r.Err}` : JSON.stringify(r);
});
