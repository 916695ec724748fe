/**
 * Where process threads come from: the sandbox factory (runtime/host/factory.ts),
 * one worker that may read the process bootstrap and nothing else, which
 * starts each process in a heap-limited node worker. The kernel gets a
 * MessagePort per process and a report when its thread ends, however it ends
 * (an exception, its heap limit, `close()`).
 */
import type { FromFactory, ToFactory } from "../host/protocol.ts";

const HOST = new URL("../host/", import.meta.url);
/** The files the bootstrap's threads load; the factory may read these alone. */
const BOOTSTRAP_FILES = ["factory.ts", "worker.ts", "protocol.ts", "wire.ts", "lockdown.ts", "../limits.ts"]
  .map((f) => new URL(f, HOST).pathname);

/** The heap limit of one process's thread, in MiB, unless the node says otherwise. */
export const PROCESS_HEAP_MB = 512;

export interface ProcessThread {
  readonly port: MessagePort;
  terminate(): void;
}

export class Sandbox {
  private factory!: Worker;
  private next = 1;
  private ended = new Map<number, (error: string | null) => void>();

  constructor(private heapMb = PROCESS_HEAP_MB) {
    this.factory = this.newFactory();
  }

  private newFactory(): Worker {
    const factory = new Worker(new URL("factory.ts", HOST), {
      type: "module",
      deno: {
        permissions: {
          read: BOOTSTRAP_FILES,
          write: false,
          net: false,
          env: false,
          run: false,
          ffi: false,
          sys: false,
        },
      },
    } as WorkerOptions);
    factory.onmessage = (e: MessageEvent<FromFactory>) => {
      const m = e.data;
      if (m?.t !== "ended") return;
      const cb = this.ended.get(m.thread);
      this.ended.delete(m.thread);
      cb?.(m.error);
    };
    // Should the factory itself fail, every thread it started is gone: say so, and start anew.
    factory.onerror = (e) => {
      e.preventDefault();
      const lost = [...this.ended.values()];
      this.ended.clear();
      factory.terminate();
      this.factory = this.newFactory();
      for (const cb of lost) cb(`the sandbox factory failed: ${e.message}`);
    };
    factory.postMessage({ t: "config", heapMb: this.heapMb } satisfies ToFactory);
    return factory;
  }

  private tell(m: ToFactory, transfer: Transferable[] = []) {
    this.factory.postMessage(m, transfer);
  }

  /** A new process thread; `onEnd` hears once when it ends by itself (not when terminated). */
  start(onEnd: (error: string | null) => void): ProcessThread {
    const thread = this.next++;
    const { port1, port2 } = new MessageChannel();
    this.ended.set(thread, onEnd);
    this.tell({ t: "start", thread, port: port2 }, [port2]);
    return {
      port: port1,
      terminate: () => {
        this.ended.delete(thread);
        port1.close();
        this.tell({ t: "kill", thread });
      },
    };
  }

  close() {
    this.ended.clear();
    this.factory.terminate();
  }
}
