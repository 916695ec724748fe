/**
 * Warm sandboxed workers. Starting a Deno worker costs tens of milliseconds;
 * keeping a few booted and idle turns a spawn into one postMessage.
 */
const BOOTSTRAP = new URL("../host/worker.ts", import.meta.url);

const REFILL_DELAY_MS = 30;

export function newSandboxedWorker(): Worker {
  return new Worker(BOOTSTRAP, {
    type: "module",
    // No file, network, env, ffi or subprocess access: everything goes through the kernel.
    deno: { permissions: "none" },
  } as WorkerOptions);
}

export class WorkerPool {
  private idle: Worker[] = [];
  private closed = false;

  constructor(private size: number) {
    this.refill();
  }

  take(): Worker {
    const w = this.idle.shift() ?? newSandboxedWorker();
    // Refill a moment later: a worker booting now would take a core from the
    // process that just started on the one taken.
    const t = setTimeout(() => this.refill(), REFILL_DELAY_MS);
    Deno.unrefTimer(t as unknown as number);
    return w;
  }

  private refill() {
    while (!this.closed && this.idle.length < this.size) this.idle.push(newSandboxedWorker());
  }

  close() {
    this.closed = true;
    for (const w of this.idle.splice(0)) w.terminate();
  }
}
