/**
 * Timeouts for many outstanding requests at once, with one timer: deadlines
 * fall into 50 ms buckets and a single sweep fires whatever is due. A
 * setTimeout per request costs more than the message it guards.
 */
import type { MessageId } from "../types.ts";

const BUCKET_MS = 50;

export class Deadlines {
  private buckets = new Map<number, Set<MessageId>>();
  private due = new Map<MessageId, number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private nextSweep = Infinity;

  constructor(private fire: (id: MessageId) => void) {}

  set(id: MessageId, ms: number) {
    this.clear(id);
    const bucket = Math.ceil((performance.now() + ms) / BUCKET_MS);
    let b = this.buckets.get(bucket);
    if (!b) this.buckets.set(bucket, b = new Set());
    b.add(id);
    this.due.set(id, bucket);
    this.schedule(bucket * BUCKET_MS);
  }

  clear(id: MessageId) {
    const bucket = this.due.get(id);
    if (bucket === undefined) return;
    this.due.delete(id);
    const b = this.buckets.get(bucket);
    b?.delete(id);
    if (b?.size === 0) this.buckets.delete(bucket);
  }

  private schedule(at: number) {
    if (at >= this.nextSweep) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextSweep = at;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, Math.min(at - performance.now(), 2 ** 31 - 1)));
    Deno.unrefTimer(this.timer as unknown as number);
  }

  private sweep() {
    this.timer = null;
    this.nextSweep = Infinity;
    const now = Math.floor(performance.now() / BUCKET_MS);
    let next = Infinity;
    for (const [bucket, ids] of this.buckets) {
      if (bucket <= now) {
        this.buckets.delete(bucket);
        for (const id of ids) {
          this.due.delete(id);
          this.fire(id);
        }
      } else if (bucket < next) next = bucket;
    }
    if (next !== Infinity) this.schedule(next * BUCKET_MS);
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buckets.clear();
    this.due.clear();
  }
}
