/**
 * Every transfer this node takes part in, in one place: the main process
 * updates it from its workers' reports; the terminal's status line, the
 * transfers script and the web UI read it and subscribe to changes.
 * Downloads that have not finished are saved in the process state, so a
 * restart of the node resumes them.
 *
 * Everything a report or a request touches costs the same however many
 * transfers there are: counts by state, the open downloads by peer and name,
 * and the finished ones in the order they finished are kept as they change.
 */
import type { TransferCounts, TransferStatus, TransferView } from "../api/types.ts";

/** Finished transfers kept for the record (the newest). */
const KEEP_FINISHED = 100;
/** Ids of finished transfers no longer kept whose outcome Status still answers (the newest). */
const KEEP_OUTCOMES = 100_000;

export type Listener = (t: TransferView) => void;
type Direction = TransferView["direction"];

export class Transfers {
  private all = new Map<string, TransferView>();
  private listeners = new Set<Listener>();
  private speedAt = new Map<string, { t: number; bytes: number }>();
  private tally: TransferCounts = { download: zeroCounts(), upload: zeroCounts() };
  /** Finished transfers, oldest finished first: past KEEP_FINISHED * 2 the oldest go. */
  private finishedOrder = new Set<string>();
  /** What became of finished transfers no longer kept whole. */
  private outcomes = new Map<string, TransferStatus>();
  /** Open downloads by peer and name: a second request for one finds it. */
  private openByKey = new Map<string, string>();
  /** Downloads waiting their turn, oldest first. */
  private pendingIds = new Set<string>();

  private persist: () => void;
  // Fields, not parameter properties: `new -l javascript` strips types, and those are more than types.
  constructor(persist: () => void) {
    this.persist = persist;
  }

  /** Loads saved downloads (those that were moving are now interrupted, to resume) and the saved finished counts. */
  load(saved: TransferView[], counts?: TransferCounts) {
    for (const dir of ["download", "upload"] as const) {
      for (const s of ["done", "failed", "cancelled"] as const) {
        const n = counts?.[dir]?.[s];
        if (Number.isSafeInteger(n) && n! >= 0) this.tally[dir][s] = n!;
      }
    }
    // Kept in the order they started, so that list() need not sort (it is called for every report).
    for (const t of [...saved].sort((a, b) => a.started - b.started)) {
      if (t.status === "active" || t.status === "pending") t.status = "interrupted";
      t.speed = 0;
      this.all.set(t.id, t);
      // Finished ones are in the saved counts already.
      if (isFinal(t.status)) this.finishedOrder.add(t.id);
      else this.enter(t);
    }
  }

  get(id: string): TransferView | undefined {
    return this.all.get(id);
  }

  /** Every transfer, in the order they started (a new one is added last). */
  list(): TransferView[] {
    return [...this.all.values()];
  }

  active(): TransferView[] {
    return this.list().filter((t) => t.status === "active" || t.status === "pending");
  }

  /** How many transfers are in each state now; done, failed and cancelled: how many ever got there (saved with the downloads). */
  counts(): TransferCounts {
    return { download: { ...this.tally.download }, upload: { ...this.tally.upload } };
  }

  /** Each id's state now, or null for one this node never had (or finished too long ago to remember). */
  status(ids: string[]): Record<string, TransferStatus | null> {
    const out: Record<string, TransferStatus | null> = {};
    for (const id of ids) out[id] = this.all.get(id)?.status ?? this.outcomes.get(id) ?? null;
    return out;
  }

  /** The open (not finished) download of `name` from `peer`, if there is one. */
  openDownload(peer: string, name: string): TransferView | undefined {
    const id = this.openByKey.get(key(peer, name));
    return id === undefined ? undefined : this.all.get(id);
  }

  /** How many downloads are open (not finished). */
  openDownloads(): number {
    return this.openByKey.size;
  }

  /** Downloads waiting their turn, oldest first (one that starts meanwhile leaves without disturbing the walk). */
  *pending(): Generator<TransferView> {
    for (const id of this.pendingIds) {
      const t = this.all.get(id);
      if (t) yield t;
    }
  }

  /** Downloads to save: unfinished ones, and the newest finished. */
  saved(): TransferView[] {
    const downloads = this.list().filter((t) => t.direction === "download");
    const open = downloads.filter((t) => !isFinal(t.status));
    const finished = downloads.filter((t) => isFinal(t.status)).slice(-KEEP_FINISHED);
    return [...open, ...finished];
  }

  add(t: TransferView) {
    this.all.set(t.id, t);
    this.enter(t);
    this.changed(t, true);
  }

  /** Applies a worker's report; `persist` when the change is one a restart must know. */
  update(id: string, patch: Partial<TransferView>, persist = false) {
    const t = this.all.get(id);
    if (!t) return;
    if (patch.bytes !== undefined) this.measure(t, patch.bytes);
    const before = t.status;
    Object.assign(t, patch, { updated: Date.now() });
    if (t.status !== before) {
      this.leave(t, before);
      this.enter(t);
    }
    if (isFinal(t.status)) this.speedAt.delete(id);
    this.changed(t, persist);
  }

  subscribe(f: Listener): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** `t` is now in its state: counted, and indexed. */
  private enter(t: TransferView) {
    this.tally[t.direction][t.status]++;
    if (t.direction === "download" && !isFinal(t.status)) this.openByKey.set(key(t.peer, t.name), t.id);
    if (t.direction === "download" && t.status === "pending") this.pendingIds.add(t.id);
    if (isFinal(t.status)) {
      this.finishedOrder.add(t.id);
      this.trim();
    }
  }

  /** `t` has left state `was`. */
  private leave(t: TransferView, was: TransferStatus) {
    // Finished counts only grow: they say how many got there.
    if (!isFinal(was)) this.tally[t.direction][was]--;
    if (was === "pending") this.pendingIds.delete(t.id);
    if (isFinal(was)) this.finishedOrder.delete(t.id);
    else if (t.direction === "download" && isFinal(t.status) && this.openByKey.get(key(t.peer, t.name)) === t.id) {
      this.openByKey.delete(key(t.peer, t.name));
    }
  }

  private changed(t: TransferView, persist: boolean) {
    for (const f of this.listeners) {
      try {
        f(t);
      } catch { /* a listener's failure is its own */ }
    }
    if (persist && t.direction === "download") this.persist();
  }

  /** Speed smoothed over about two seconds of reports. */
  private measure(t: TransferView, bytes: number) {
    const now = performance.now();
    const last = this.speedAt.get(t.id);
    this.speedAt.set(t.id, { t: now, bytes });
    if (!last || now <= last.t || bytes < last.bytes) return;
    const inst = (bytes - last.bytes) / ((now - last.t) / 1000);
    const w = Math.min(1, (now - last.t) / 2000);
    t.speed = t.speed ? t.speed * (1 - w) + inst * w : inst;
  }

  /** The oldest finished go past KEEP_FINISHED * 2; their outcome stays for Status. */
  private trim() {
    while (this.finishedOrder.size > KEEP_FINISHED * 2) {
      const id = this.finishedOrder.values().next().value!;
      this.finishedOrder.delete(id);
      const t = this.all.get(id);
      this.all.delete(id);
      if (t) this.outcomes.set(id, t.status);
      if (this.outcomes.size > KEEP_OUTCOMES) this.outcomes.delete(this.outcomes.keys().next().value!);
    }
  }
}

export function isFinal(s: TransferStatus): boolean {
  return s === "done" || s === "failed" || s === "cancelled";
}

function zeroCounts(): Record<TransferStatus, number> {
  return { pending: 0, active: 0, interrupted: 0, done: 0, failed: 0, cancelled: 0 };
}

function key(peer: string, name: string): string {
  return `${peer}\n${name}`;
}
