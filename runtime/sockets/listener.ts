/**
 * An accept loop that neither a flood of connections nor a full file table
 * can stop. Every listener of the node (HTTP, TCP, WebSocket) runs one.
 *
 * Each open connection holds a slot. A slot is pending until its owner says
 * the connection has proven itself (an HTTP request read whole, a Noise
 * handshake done); a pending slot has a deadline and is closed when it
 * passes. When the table is full, a newcomer evicts a pending connection:
 * first the oldest one that has not sent a byte, then the oldest pending one.
 * Only when every slot holds a proven connection is the newcomer refused. So
 * idle and stalled connections make room for honest ones, which finish their
 * part in milliseconds.
 *
 * An accept error (EMFILE, ENFILE, anything) is logged once per burst; the
 * loop frees the oldest pending slot (its file descriptor is what the next
 * accept needs), backs off briefly and goes on. It never ends the node.
 */

export interface ListenerLimits {
  /** What the log calls this listener, e.g. "net tcp". */
  label: string;
  /** Open connections at most, pending or proven. */
  maxConnections: number;
  /** Of those, pending at most. */
  maxPending: number;
  /** A pending connection not proven within this is closed. */
  pendingTimeoutMs: number;
}

const FIRST_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 1000;
/** A burst of accept errors ends after this long without one. */
const BURST_QUIET_MS = 2000;
/** How often deadlines are checked: a deadline holds to within this. */
const SWEEP_MS = 100;

/** One accepted connection's place in its listener's table. */
export class Slot {
  pending = true;
  /** Whether the peer has sent anything yet. */
  heard = false;
  readonly since = Date.now();
  /** When the connection is closed unless proven by then (Infinity: never), and the deadline's length. */
  due = Infinity;
  dueMs = 0;

  constructor(readonly conn: Deno.TcpConn, private owner: GuardedListener, timeoutMs: number) {
    this.deadline(timeoutMs);
  }

  /**
   * Closes the connection unless it is proven within `ms` from now. The
   * listener sweeps deadlines a few times a second rather than keeping a
   * timer per slot: a kept-alive connection sets one per request.
   */
  deadline(ms: number) {
    this.due = Date.now() + ms;
    this.dueMs = ms;
    this.owner.watchDeadlines();
  }

  /**
   * A kept-alive connection waits for its next request: pending again, with
   * a deadline of `ms`, and first in line for eviction until it sends a byte.
   */
  idle(ms: number) {
    this.pending = true;
    this.heard = false;
    this.deadline(ms);
  }

  get remote(): string {
    const a = this.conn.remoteAddr as Deno.NetAddr;
    return `${a.hostname}:${a.port}`;
  }

  /** The connection proved itself: no more deadline, and it is not evicted for newcomers. */
  proven() {
    this.due = Infinity;
    this.pending = false;
  }

  /** Closes the connection (if still open) and frees the slot. Safe to call twice. */
  close() {
    this.due = Infinity;
    this.owner.release(this);
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

export class GuardedListener {
  private slots = new Set<Slot>();
  private closed = false;
  /** Connections refused or evicted to make room. */
  refused = 0;
  acceptErrors = 0;
  readonly port: number;
  /** Accept errors in the current burst, and when the last came. */
  private burst = 0;
  private lastError = 0;
  private burstTimer: ReturnType<typeof setTimeout> | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(
    private listener: Deno.TcpListener,
    readonly limits: ListenerLimits,
    private onConn: (slot: Slot) => void,
    readonly log: (verbosity: number, text: string) => void,
  ) {
    this.port = (listener.addr as Deno.NetAddr).port;
    this.loop();
  }

  get open(): number {
    return this.slots.size;
  }

  private async loop() {
    let backoff = 0;
    while (!this.closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.listener.accept();
      } catch (e) {
        if (this.closed) return;
        this.acceptFailed(e as Error);
        this.evictOne();
        backoff = Math.min(MAX_BACKOFF_MS, backoff ? backoff * 2 : FIRST_BACKOFF_MS);
        await new Promise((r) => setTimeout(r, backoff));
        continue;
      }
      backoff = 0;
      this.admit(conn);
    }
  }

  /** Logs the first error of a burst, and its end once errors stop for a while. */
  private acceptFailed(e: Error) {
    this.acceptErrors++;
    this.lastError = Date.now();
    if (this.burst++ > 0) return;
    this.log(0, `${this.limits.label}: accept failed (${e.message}); backing off and retrying`);
    const watch = () => {
      this.burstTimer = setTimeout(() => {
        if (Date.now() - this.lastError < BURST_QUIET_MS) return watch();
        this.log(0, `${this.limits.label}: accepting again after ${this.burst} failed accepts`);
        this.burst = 0;
      }, BURST_QUIET_MS);
    };
    watch();
  }

  private admit(conn: Deno.TcpConn) {
    const pending = [...this.slots].filter((s) => s.pending).length;
    if ((this.slots.size >= this.limits.maxConnections || pending >= this.limits.maxPending) && !this.evictOne()) {
      this.refused++;
      this.log(1, `${this.limits.label}: refusing a connection, all ${this.slots.size} slots hold proven connections`);
      try {
        conn.close();
      } catch { /* gone */ }
      return;
    }
    const slot = new Slot(conn, this, this.limits.pendingTimeoutMs);
    this.slots.add(slot);
    try {
      this.onConn(slot);
    } catch (e) {
      this.log(1, `${this.limits.label}: ${(e as Error).message}`);
      slot.close();
    }
  }

  /** Closes the pending connection that has done least: silent ones first, oldest first. */
  private evictOne(): boolean {
    let victim: Slot | undefined;
    for (const s of this.slots) {
      if (!s.pending) continue;
      if (!victim || (victim.heard && !s.heard) || (victim.heard === s.heard && s.since < victim.since)) victim = s;
    }
    if (!victim) return false;
    this.refused++;
    this.log(2, `${this.limits.label}: evicting pending connection ${victim.remote} to make room`);
    victim.close();
    return true;
  }

  /** Starts the deadline sweep if it is not running. */
  watchDeadlines() {
    if (this.sweeper !== undefined || this.closed) return;
    this.sweeper = setInterval(() => {
      const now = Date.now();
      let waiting = false;
      for (const s of [...this.slots]) {
        if (s.due <= now) {
          this.log(2, `${this.limits.label}: closing ${s.remote}, not done within ${s.dueMs} ms`);
          s.close();
        } else if (s.due !== Infinity) waiting = true;
      }
      if (!waiting) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, SWEEP_MS);
  }

  release(slot: Slot) {
    this.slots.delete(slot);
  }

  close() {
    this.closed = true;
    clearTimeout(this.burstTimer);
    clearInterval(this.sweeper);
    try {
      this.listener.close();
    } catch { /* closed */ }
    for (const s of [...this.slots]) s.close();
  }
}

/** Listens on loopback and runs a guarded accept loop. */
export function guardedListen(
  port: number,
  limits: ListenerLimits,
  onConn: (slot: Slot) => void,
  log: (verbosity: number, text: string) => void,
  hostname = "127.0.0.1",
): GuardedListener {
  return new GuardedListener(Deno.listen({ hostname, port }), limits, onConn, log);
}
