/** __PACKAGE__: computes the n-th Fibonacci number (and how long it takes, averaged over runs). */
import { println, requests, Response } from "@hyperdeno/process_lib";
import { fibonacci, type FibonacciRequest, type FibonacciResponse, MAX_N } from "@api/__PACKAGE__:__PUBLISHER__";

function answer(request: FibonacciRequest): FibonacciResponse {
  const [n, runs] = "Number" in request ? [request.Number, 1] : request.Numbers;
  if (!Number.isInteger(n) || n < 0 || n > MAX_N) return { Err: `n must be an integer from 0 to ${MAX_N}, got ${n}` };
  if (!Number.isInteger(runs) || runs < 1 || runs > 1_000_000) return { Err: `runs must be 1 to 1000000, got ${runs}` };
  const start = performance.now();
  let result = 0;
  for (let i = 0; i < runs; i++) result = fibonacci(n);
  const micros = Math.round(((performance.now() - start) * 1000) / runs);
  println(`fibonacci(${n}) = ${result}; ${micros} µs on average over ${runs} run${runs === 1 ? "" : "s"}`);
  return "Number" in request ? { Number: result } : { Numbers: [result, micros] };
}

export default async function init(_our: string) {
  for await (const msg of requests()) {
    let response: FibonacciResponse;
    try {
      response = answer(msg.json<FibonacciRequest>());
    } catch (e) {
      response = { Err: `not a FibonacciRequest: ${(e as Error).message}` };
    }
    Response.to(msg).json(response).send();
  }
}
