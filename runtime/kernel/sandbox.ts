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

/** Threads kept warm: a node worker started off the main thread takes ~550 ms to come up. */
const WARM = 6;

export class Sandbox {
  private factory!: Worker;
  private next = 1;
  private ended = new Map<number, (error: string | null) => void>();
  /** Warm threads, with the kernel's end of each one's port. */
  private ready: { thread: number; port: MessagePort }[] = [];
  /** Warm threads asked for and not yet here. */
  private coming = 0;

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
      if (m?.t === "warm") {
        this.coming--;
        this.ready.push({ thread: m.thread, port: m.port });
        return;
      }
      if (m?.t !== "ended") return;
      this.ready = this.ready.filter((r) => r.thread !== m.thread);
      const cb = this.ended.get(m.thread);
      this.ended.delete(m.thread);
      cb?.(m.error);
      this.topUp();
    };
    // Should the factory itself fail, every thread it started is gone: say so, and start anew.
    factory.onerror = (e) => {
      e.preventDefault();
      const lost = [...this.ended.values()];
      this.ended.clear();
      this.ready = [];
      this.coming = 0;
      factory.terminate();
      this.factory = this.newFactory();
      for (const cb of lost) cb(`the sandbox factory failed: ${e.message}`);
    };
    factory.postMessage({ t: "config", heapMb: this.heapMb } satisfies ToFactory);
    this.factory = factory;
    this.topUp();
    return factory;
  }

  private tell(m: ToFactory, transfer: Transferable[] = []) {
    this.factory.postMessage(m, transfer);
  }

  private topUp() {
    while (this.ready.length + this.coming < WARM) {
      this.coming++;
      this.tell({ t: "warm", thread: this.next++ });
    }
  }

  /** A new process thread; `onEnd` hears once when it ends by itself (not when terminated). */
  start(onEnd: (error: string | null) => void): ProcessThread {
    let got = this.ready.shift();
    if (!got) {
      const { port1, port2 } = new MessageChannel();
      got = { thread: this.next++, port: port1 };
      this.tell({ t: "start", thread: got.thread, port: port2 }, [port2]);
    }
    this.topUp();
    const { thread, port } = got;
    this.ended.set(thread, onEnd);
    return {
      port,
      terminate: () => {
        this.ended.delete(thread);
        port.close();
        this.tell({ t: "kill", thread });
      },
    };
  }

  close() {
    this.ended.clear();
    for (const r of this.ready) r.port.close();
    this.ready = [];
    this.factory.terminate();
  }
}
