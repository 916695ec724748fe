/**
 * The sandbox factory: a worker with no permissions but reading the process
 * bootstrap, which starts every process in a node:worker_threads Worker.
 *
 * Why not web Workers: Deno 2.9 ignores `resourceLimits` on them, so one
 * process that exhausts its heap took the whole node down ("Fatal JavaScript
 * out of memory"). Node workers honour a heap limit and end alone, and a node
 * worker inherits the permissions of the thread that creates it: this one's,
 * which are none but reading the bootstrap's own files. The kernel then talks
 * to each process over a MessagePort of its own; this thread only starts,
 * stops and reports on them.
 */
import { Worker as NodeWorker } from "node:worker_threads";
import type { FromFactory, ToFactory } from "./protocol.ts";

const BOOTSTRAP = new URL("./worker.ts", import.meta.url);
/** Booting a node worker costs milliseconds; a few wait warm. */
const WARM = 2;
const REFILL_DELAY_MS = 30;

// deno-lint-ignore no-explicit-any
const scope = self as any;
let heapMb = 512;
const warm: NodeWorker[] = [];
const live = new Map<number, NodeWorker>();
let refill: ReturnType<typeof setTimeout> | null = null;

function boot(): NodeWorker {
  return new NodeWorker(BOOTSTRAP, {
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
  });
}

function topUp() {
  refill = null;
  while (warm.length < WARM) warm.push(boot());
}

function report(m: FromFactory) {
  scope.postMessage(m);
}

function start(thread: number, port: MessagePort) {
  const w = warm.shift() ?? boot();
  live.set(thread, w);
  let error: string | null = null;
  w.on("error", (e: Error) => error ??= e?.message ?? String(e));
  w.on("exit", (code: number) => {
    if (live.get(thread) !== w) return;
    live.delete(thread);
    report({ t: "ended", thread, error: error ?? (code === 0 ? null : `its worker ended with code ${code}`) });
  });
  // A web MessagePort, which node's typings do not name as transferable.
  w.postMessage({ port }, [port as unknown as import("node:worker_threads").TransferListItem]);
  // A worker booting now would take a core from the process that just started.
  refill ??= setTimeout(topUp, REFILL_DELAY_MS);
}

scope.onmessage = (e: MessageEvent<ToFactory>) => {
  const m = e.data;
  if (m.t === "config") {
    heapMb = m.heapMb;
    topUp();
  } else if (m.t === "start") start(m.thread, m.port);
  else if (m.t === "kill") {
    const w = live.get(m.thread);
    live.delete(m.thread);
    w?.terminate();
  }
};
