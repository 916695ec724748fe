/**
 * The sandbox factory: a worker with no permissions but reading the process
 * bootstrap, which starts processes in heap-limited node workers
 * (threads.ts). It runs in the node's own OS process (`--sandbox threads`, or
 * a compiled binary), or in a process host (host.ts), where it keeps the
 * host's main thread free to relay messages: starting a node worker blocks
 * the thread that starts it for 100-300 ms.
 */
import type { FromFactory, ToFactory } from "./protocol.ts";
import { ThreadPool } from "./threads.ts";

// deno-lint-ignore no-explicit-any
const scope = self as any;
let pool: ThreadPool | null = null;

scope.onmessage = (e: MessageEvent<ToFactory>) => {
  const m = e.data;
  if (m.t === "config") {
    pool ??= new ThreadPool({
      report: (r: FromFactory) => scope.postMessage(r),
      bytes: m.bytes ?? false,
      // Only a process host can end a stuck thread: by ending its OS process.
      watch: m.watch ?? false,
      warm: m.warm,
    });
    pool.configure(m.heapMb);
    scope.postMessage({ t: "ready" } satisfies FromFactory);
  } else if (m.t === "start") pool?.start(m.thread, m.port);
  else if (m.t === "kill") pool?.kill(m.thread);
};
