/**
 * A runtime module's heavy half in its own worker: blocking or CPU-heavy
 * work (SQLite is synchronous) runs there with only the permissions it
 * needs, so the kernel's thread keeps routing. Calls are numbered; the
 * worker answers each with a value or an error message.
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

  constructor(entry: URL, permissions: Deno.PermissionOptionsObject) {
    this.worker = new Worker(entry, { type: "module", deno: { permissions } } as WorkerOptions);
    this.worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const c = this.calls.get(e.data.id);
      if (!c) return;
      this.calls.delete(e.data.id);
      if (e.data.ok) c.resolve(e.data.value);
      else c.reject(new Error(e.data.error));
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      for (const c of this.calls.values()) c.reject(new Error(`module worker failed: ${e.message}`));
      this.calls.clear();
    };
  }

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args } satisfies WorkerCall);
    });
  }

  terminate() {
    this.worker.terminate();
    for (const c of this.calls.values()) c.reject(new Error("module stopped"));
    this.calls.clear();
  }
}

/** The worker side: dispatches numbered calls to `handlers`. */
export function serveCalls(handlers: Record<string, (...args: never[]) => unknown>) {
  // deno-lint-ignore no-explicit-any
  const scope = self as any;
  scope.onmessage = (e: MessageEvent<WorkerCall>) => {
    const { id, op, args } = e.data;
    let reply: WorkerReply;
    try {
      const h = handlers[op];
      if (!h) throw new Error(`unknown operation ${op}`);
      reply = { id, ok: true, value: (h as (...a: unknown[]) => unknown)(...args) };
    } catch (err) {
      reply = { id, ok: false, error: (err as Error).message ?? String(err) };
    }
    scope.postMessage(reply);
  };
}
