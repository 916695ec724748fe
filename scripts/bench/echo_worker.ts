/** Baseline for the benchmarks: the plainest Deno worker, echoing each message. */
// deno-lint-ignore no-explicit-any
const scope = self as any;
scope.onmessage = (e: MessageEvent) => scope.postMessage(e.data);
