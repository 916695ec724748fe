/**
 * At most `width` tasks running at once per key; more wait in that key's own
 * queue. One process flooding vfs waits behind itself, not behind others.
 */
export class Gates<K> {
  private gates = new Map<K, { running: number; waiting: (() => void)[] }>();
  constructor(private width: number) {}

  async run<T>(key: K, task: () => Promise<T>): Promise<T> {
    let g = this.gates.get(key);
    if (!g) this.gates.set(key, g = { running: 0, waiting: [] });
    if (g.running >= this.width) await new Promise<void>((go) => g!.waiting.push(go));
    else g.running++;
    try {
      return await task();
    } finally {
      const next = g.waiting.shift();
      if (next) next(); // the slot passes straight on
      else if (--g.running === 0) this.gates.delete(key);
    }
  }
}
