/**
 * The sandbox factory: a worker with no permissions but reading the process
 * bootstrap, which starts every process of the node in a heap-limited node
 * worker (threads.ts), in the node's own OS process. The kernel uses it when
 * it may not start child processes (`--sandbox threads`, or a compiled
 * binary); otherwise each package gets a process host (host.ts).
 */
import type { FromFactory, ToFactory } from "./protocol.ts";
import { ThreadPool } from "./threads.ts";

// deno-lint-ignore no-explicit-any
const scope = self as any;
const pool = new ThreadPool({
  // Stuck threads cannot be reported usefully here: nothing can end them but the node itself.
  report: (m) => m.t === "ended" && scope.postMessage(m satisfies FromFactory),
  bytes: false,
  watch: false,
});

scope.onmessage = (e: MessageEvent<ToFactory>) => {
  const m = e.data;
  if (m.t === "config") pool.configure(m.heapMb);
  else if (m.t === "start") pool.start(m.thread, m.port);
  else if (m.t === "kill") pool.kill(m.thread);
};
