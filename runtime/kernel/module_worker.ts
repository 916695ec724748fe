/**
 * A runtime module's heavy half in its own worker: blocking or CPU-heavy
 * work (SQLite is synchronous) runs there with only the permissions it
 * needs, so the kernel's thread keeps routing. Calls are numbered and
 * batched per turn of the event loop; the worker answers a batch with a
 * batch, and may handle a batch as a whole (a group commit, say).
 */
export interface WorkerCall {
  id: number;
  op: string;
  args: unknown[];
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export class ModuleWorker {
  private worker: Worker;
  private next = 1;
  private calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private outbox: WorkerCall[] = [];

  constructor(entry: URL, permissions: Deno.PermissionOptionsObject) {
    this.worker = new Worker(entry, { type: "module", deno: { permissions } } as WorkerOptions);
    this.worker.onmessage = (e: MessageEvent<WorkerReply[]>) => {
      for (const r of e.data) {
        const c = this.calls.get(r.id);
        if (!c) continue;
        this.calls.delete(r.id);
        if (r.ok) c.resolve(r.value);
        else c.reject(new Error(r.error));
      }
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      for (const c of this.calls.values()) c.reject(new Error(`module worker failed: ${e.message}`));
      this.calls.clear();
    };
  }

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    if (this.outbox.length === 0) queueMicrotask(() => this.flush());
    this.outbox.push({ id, op, args });
    return new Promise<T>((resolve, reject) =>
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
    );
  }

  private flush() {
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length) this.worker.postMessage(batch);
  }

  terminate() {
    this.worker.terminate();
    for (const c of this.calls.values()) c.reject(new Error("module stopped"));
    this.calls.clear();
  }
}

export type Handlers = Record<string, (...args: never[]) => unknown>;

/**
 * The worker side: runs each batch through `batch` when given (it returns
 * one reply per call, in order), else call by call through `handlers`.
 */
export function serveCalls(handlers: Handlers, batch?: (calls: WorkerCall[]) => WorkerReply[]) {
  // deno-lint-ignore no-explicit-any
  const scope = self as any;
  scope.onmessage = (e: MessageEvent<WorkerCall[]>) => {
    scope.postMessage(batch ? batch(e.data) : e.data.map((c) => runCall(handlers, c)));
  };
}

export function runCall(handlers: Handlers, { id, op, args }: WorkerCall): WorkerReply {
  try {
    const h = handlers[op];
    if (!h) throw new Error(`unknown operation ${op}`);
    return { id, ok: true, value: (h as (...a: unknown[]) => unknown)(...args) };
  } catch (err) {
    return { id, ok: false, error: (err as Error).message ?? String(err) };
  }
}
