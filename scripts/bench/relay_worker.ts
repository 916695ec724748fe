/**
 * Baseline for ping-pong: a worker that, told to, sends `n` pings through
 * the main thread to a second worker and times each round trip — the same
 * four thread hops as process → kernel → process, with no kernel.
 */
// deno-lint-ignore no-explicit-any
const scope = self as any;
let pending: (() => void) | null = null;
scope.onmessage = async (e: MessageEvent) => {
  const d = e.data;
  if (d.role === "echo") return scope.postMessage({ to: "client", body: d.body });
  if (d.role === "reply") return pending?.();
  if (d.role === "run") {
    const times: number[] = [];
    for (let i = 0; i < d.n; i++) {
      const t0 = performance.now();
      await new Promise<void>((r) => {
        pending = r;
        scope.postMessage({ to: "server", body: "ping" });
      });
      times.push(performance.now() - t0);
    }
    scope.postMessage({ to: "main", times });
  }
};
