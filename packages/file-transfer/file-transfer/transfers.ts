/**
 * Every transfer this node takes part in, in one place: the main process
 * updates it from its workers' reports; the terminal's status line, the
 * transfers script and (later) the web UI read it and subscribe to changes.
 * Downloads that have not finished are saved in the process state, so a
 * restart of the node resumes them.
 */
import type { TransferStatus, TransferView } from "../api/types.ts";

/** Finished transfers kept for the record (the newest). */
const KEEP_FINISHED = 100;

export type Listener = (t: TransferView) => void;

export class Transfers {
  private all = new Map<string, TransferView>();
  private listeners = new Set<Listener>();
  private speedAt = new Map<string, { t: number; bytes: number }>();

  private persist: () => void;
  // Fields, not parameter properties: `new -l javascript` strips types, and those are more than types.
  constructor(persist: () => void) {
    this.persist = persist;
  }

  /** Loads saved downloads; those that were moving are now interrupted (to resume). */
  load(saved: TransferView[]) {
    // Kept in the order they started, so that list() need not sort (it is called for every report).
    for (const t of [...saved].sort((a, b) => a.started - b.started)) {
      if (t.status === "active" || t.status === "pending") t.status = "interrupted";
      t.speed = 0;
      this.all.set(t.id, t);
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

  /** Downloads to save: unfinished ones, and the newest finished. */
  saved(): TransferView[] {
    const downloads = this.list().filter((t) => t.direction === "download");
    const open = downloads.filter((t) => !isFinal(t.status));
    const finished = downloads.filter((t) => isFinal(t.status)).slice(-KEEP_FINISHED);
    return [...open, ...finished];
  }

  add(t: TransferView) {
    this.all.set(t.id, t);
    this.trim();
    this.changed(t, true);
  }

  /** Applies a worker's report; `persist` when the change is one a restart must know. */
  update(id: string, patch: Partial<TransferView>, persist = false) {
    const t = this.all.get(id);
    if (!t) return;
    if (patch.bytes !== undefined) this.measure(t, patch.bytes);
    Object.assign(t, patch, { updated: Date.now() });
    if (isFinal(t.status)) this.speedAt.delete(id);
    this.changed(t, persist);
  }

  subscribe(f: Listener): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
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

  private trim() {
    const finished = this.list().filter((t) => isFinal(t.status));
    for (const t of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED * 2))) this.all.delete(t.id);
  }
}

export function isFinal(s: TransferStatus): boolean {
  return s === "done" || s === "failed" || s === "cancelled";
}
