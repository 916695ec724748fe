/**
 * Keeps a flood of log lines from drowning the console. Within a window,
 * each (source, kind) pair may print a few lines and each source a few
 * hundred; the rest are counted, and when the window ends one line says
 * "… and 299,212 more like this from X in the last 10 s". Memory is bounded:
 * past `maxKeys` live keys, newcomers share one overflow bucket, so a million
 * distinct senders cost no more than a thousand.
 */

export interface RepeatLimits {
  windowMs: number;
  /** Lines of one kind from one source per window. */
  perKind: number;
  /** Lines from one source per window, whatever their kind. */
  perSource: number;
  /** Keys tracked at once in each table. */
  maxKeys: number;
}

export const DEFAULT_LIMITS: RepeatLimits = { windowMs: 10_000, perKind: 10, perSource: 200, maxKeys: 1000 };

const OVERFLOW = "\u0000overflow";

interface Bucket {
  start: number;
  printed: number;
  suppressed: number;
  /** What the summary says the suppressed lines were like. */
  about: string;
  verbosity: number;
}

/** One table of buckets: per kind, or per source. */
class Buckets {
  private map = new Map<string, Bucket>();

  constructor(private limit: number, private limits: RepeatLimits, private summarize: (b: Bucket) => void) {}

  /** Whether one more line under `key` fits its window; counts it either way. */
  admit(key: string, about: string, verbosity: number, now: number): boolean {
    let b = this.map.get(key);
    if (b && now - b.start >= this.limits.windowMs) {
      if (b.suppressed) this.summarize(b);
      this.map.delete(key);
      b = undefined;
    }
    if (!b) {
      if (this.map.size >= this.limits.maxKeys && this.oldestEnded(now)) this.sweep(now);
      if (this.map.size >= this.limits.maxKeys && key !== OVERFLOW) {
        return this.admit(OVERFLOW, "lines from many sources", verbosity, now);
      }
      this.map.set(key, b = { start: now, printed: 0, suppressed: 0, about, verbosity });
    }
    if (b.printed < this.limit) {
      b.printed++;
      return true;
    }
    b.suppressed++;
    return false;
  }

  /** Keys enter in time order, so the first one is the oldest. */
  private oldestEnded(now: number): boolean {
    const first = this.map.values().next().value;
    return first !== undefined && now - first.start >= this.limits.windowMs;
  }

  /** Says what ended windows held back, and forgets them. */
  sweep(now: number) {
    for (const [key, b] of this.map) {
      if (now - b.start < this.limits.windowMs) continue;
      if (b.suppressed) this.summarize(b);
      this.map.delete(key);
    }
  }

  get holding(): boolean {
    for (const b of this.map.values()) if (b.suppressed) return true;
    return false;
  }

  get size(): number {
    return this.map.size;
  }
}

export class RepeatLimiter {
  private kinds: Buckets;
  private sources: Buckets;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @param report prints a summary line (at the verbosity of the lines it stands for)
   * @param now the clock (tests pass their own)
   */
  constructor(
    private report: (verbosity: number, line: string) => void,
    private limits: RepeatLimits = DEFAULT_LIMITS,
    private now: () => number = Date.now,
  ) {
    const seconds = Math.round(limits.windowMs / 1000);
    const summarize = (b: Bucket) =>
      report(b.verbosity, `… and ${b.suppressed.toLocaleString("en-US")} more ${b.about} in the last ${seconds} s`);
    this.kinds = new Buckets(limits.perKind, limits, summarize);
    this.sources = new Buckets(limits.perSource, limits, summarize);
  }

  /**
   * Whether a line may be printed now.
   * @param source who the line speaks for or about (a process, another node)
   * @param kind what sort of line it is; lines of one kind from one source are collapsed
   * @param sample the line itself, quoted in the summary
   * @param perSource whether the source's own budget applies (lines about untrusted parties)
   */
  admit(source: string, kind: string, sample: string, verbosity: number, perSource: boolean): boolean {
    const now = this.now();
    const short = sample.length > 100 ? `${sample.slice(0, 100)}…` : sample;
    let ok = this.kinds.admit(`${source}\n${kind}`, `like "${short}"`, verbosity, now);
    if (ok && perSource) ok = this.sources.admit(source, `lines from ${source}`, verbosity, now);
    if (!ok) this.armSweep();
    return ok;
  }

  /** Keys held, for tests of the memory bound. */
  get size(): number {
    return this.kinds.size + this.sources.size;
  }

  /** Prints what is still held back (at shutdown). */
  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const end = this.now() + this.limits.windowMs;
    this.kinds.sweep(end);
    this.sources.sweep(end);
  }

  /** A summary must come even if the flood stops: sweep when the window ends. */
  private armSweep() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = this.now();
      this.kinds.sweep(now);
      this.sources.sweep(now);
      if (this.kinds.holding || this.sources.holding) this.armSweep();
    }, this.limits.windowMs);
    Deno.unrefTimer(this.timer as unknown as number);
  }
}
