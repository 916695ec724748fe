/**
 * Tasks under one key run one after another, in the order they came; tasks
 * under other keys do not wait for them. A key is forgotten once its last
 * task has ended.
 */
export class Turns {
  private keys = new Map<string, { tail: Promise<void>; waiting: number }>();

  /** Tasks of `key` queued or running. */
  waiting(key: string): number {
    return this.keys.get(key)?.waiting ?? 0;
  }

  /** Runs `task` once every task queued before it under `key` has ended (however it ended). */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let k = this.keys.get(key);
    if (!k) this.keys.set(key, k = { tail: Promise.resolve(), waiting: 0 });
    k.waiting++;
    const run = k.tail.then(task);
    const entry = k;
    entry.tail = run.then(() => {}, () => {}).then(() => {
      if (--entry.waiting === 0 && this.keys.get(key) === entry) this.keys.delete(key);
    });
    return run;
  }
}
