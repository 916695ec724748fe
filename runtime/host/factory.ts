/**
 * The sandbox factory: a worker with no permissions but reading the process
 * bootstrap, which starts every process in a node:worker_threads Worker.
 *
 * Why not web Workers: Deno 2.9 ignores `resourceLimits` on them, so one
 * process that exhausts its heap took the whole node down ("Fatal JavaScript
 * out of memory"). Node workers honour a heap limit and end alone, and a node
 * worker inherits the permissions of the thread that creates it: this one's,
 * which are none but reading the bootstrap's own files. (Created by the
 * kernel's thread instead, a node worker would share the node's permissions:
 * revoking them in the worker revokes them for the node.)
 *
 * A node worker started from any thread but the main one takes ~550 ms to
 * come up (measured; ~30 ms from the main thread), so threads are made ahead
 * of need: each warm thread gets its MessagePort at creation, and the kernel
 * keeps the other end until a process starts there.
 */
import { type TransferListItem, Worker as NodeWorker } from "node:worker_threads";
import type { FromFactory, ToFactory } from "./protocol.ts";

const BOOTSTRAP = new URL("./worker.ts", import.meta.url);

// deno-lint-ignore no-explicit-any
const scope = self as any;
let heapMb = 512;
const threads = new Map<number, NodeWorker>();

function report(m: FromFactory, transfer: Transferable[] = []) {
  scope.postMessage(m, transfer);
}

/** Starts a thread whose bootstrap talks to the kernel over `port`. */
function boot(thread: number, port: MessagePort) {
  const w = new NodeWorker(BOOTSTRAP, {
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    workerData: { port },
    // A web MessagePort, which node's typings do not name as transferable.
    transferList: [port as unknown as TransferListItem],
  });
  threads.set(thread, w);
  let error: string | null = null;
  w.on("error", (e: Error) => error ??= e?.message ?? String(e));
  w.on("exit", (code: number) => {
    if (threads.get(thread) !== w) return;
    threads.delete(thread);
    report({ t: "ended", thread, error: error ?? (code === 0 ? null : `its worker ended with code ${code}`) });
  });
}

scope.onmessage = (e: MessageEvent<ToFactory>) => {
  const m = e.data;
  switch (m.t) {
    case "config":
      heapMb = m.heapMb;
      return;
    case "warm": {
      const { port1, port2 } = new MessageChannel();
      boot(m.thread, port2);
      return report({ t: "warm", thread: m.thread, port: port1 }, [port1]);
    }
    case "start":
      return boot(m.thread, m.port);
    case "kill": {
      const w = threads.get(m.thread);
      threads.delete(m.thread);
      w?.terminate();
    }
  }
};
