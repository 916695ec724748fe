/**
 * The persisted process map: which processes exist, where their code lives,
 * their exit behaviour, publicity and capabilities. Saved atomically on every
 * change, so a crash mid-write leaves the previous map intact.
 */
import {
  type Capability,
  capKey,
  type OnExit,
  ParseError,
  parseProcessId,
  type ProcessId,
  validateCapability,
  validateOnExit,
} from "../types.ts";
import { LatestWriter, readJsonSync } from "./persist.ts";

/** The book's UserspacePersistedProcess. */
export interface PersistedProcess {
  wasm_bytes_handle: string;
  wit_version: number | null;
  on_exit: OnExit;
  capabilities: Capability[];
  public: boolean;
}

export class ProcessMap {
  private entries = new Map<ProcessId, PersistedProcess>();
  private caps = new Map<ProcessId, Map<string, Capability>>();
  private writer = new LatestWriter();
  /** Bumped on every change to who holds what, so decisions can be cached. */
  version = 0;
  /** Inside atomically(): saves wait until the change is complete. */
  private holding = 0;
  private held = false;

  constructor(private path: string) {}

  /** Loads the map; a corrupt file is an error naming the file, never silently emptied. */
  load(): void {
    const raw = readJsonSync<Record<string, unknown>>(this.path, {});
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
      throw new ParseError(`${this.path} is not a process map; move it aside to boot with an empty map`);
    }
    for (const [id, v] of Object.entries(raw)) {
      parseProcessId(id);
      const p = v as PersistedProcess;
      this.set(id, {
        wasm_bytes_handle: String(p.wasm_bytes_handle),
        wit_version: p.wit_version ?? null,
        on_exit: validateOnExit(p.on_exit),
        capabilities: (p.capabilities ?? []).map(validateCapability),
        public: Boolean(p.public),
      }, false);
    }
  }

  has(id: ProcessId): boolean {
    return this.entries.has(id);
  }

  get(id: ProcessId): PersistedProcess | undefined {
    const p = this.entries.get(id);
    return p && { ...p, capabilities: [...this.caps.get(id)!.values()] };
  }

  ids(): ProcessId[] {
    return [...this.entries.keys()];
  }

  set(id: ProcessId, p: PersistedProcess, save = true): void {
    this.version++;
    this.entries.set(id, { ...p, capabilities: [] });
    this.caps.set(id, new Map(p.capabilities.map((c) => [capKey(c), c])));
    if (save) this.save();
  }

  update(id: ProcessId, patch: Partial<PersistedProcess>): void {
    this.version++;
    const p = this.entries.get(id);
    if (!p) return;
    Object.assign(p, patch);
    this.save();
  }

  remove(id: ProcessId): void {
    this.version++;
    this.entries.delete(id);
    this.caps.delete(id);
    this.save();
  }

  hasCap(id: ProcessId, cap: Capability): boolean {
    return this.caps.get(id)?.has(capKey(cap)) ?? false;
  }

  hasCapKey(id: ProcessId, key: string): boolean {
    return this.caps.get(id)?.has(key) ?? false;
  }

  capabilities(id: ProcessId): Capability[] {
    return [...(this.caps.get(id)?.values() ?? [])];
  }

  grant(id: ProcessId, caps: Capability[]): void {
    this.version++;
    const m = this.caps.get(id);
    if (!m) return;
    for (const c of caps) m.set(capKey(c), c);
    this.save();
  }

  drop(id: ProcessId, caps: Capability[]): void {
    this.version++;
    const m = this.caps.get(id);
    if (!m) return;
    for (const c of caps) m.delete(capKey(c));
    this.save();
  }

  /** Drops, from every holder, the capabilities `issuer` issued (a process gone for good). */
  dropIssuedBy(issuer: string): void {
    let dropped = false;
    for (const m of this.caps.values()) {
      for (const [k, c] of m) {
        if (c.issuer !== issuer) continue;
        m.delete(k);
        dropped = true;
      }
    }
    if (!dropped) return;
    this.version++;
    this.save();
  }

  toJSON(): Record<ProcessId, PersistedProcess> {
    const out: Record<ProcessId, PersistedProcess> = {};
    for (const id of this.entries.keys()) out[id] = this.get(id)!;
    return out;
  }

  /**
   * Runs `change` as one change on disk: saves inside it are held back and the
   * map is written once at the end, so a crash never persists a halfway state.
   * If `change` throws, nothing is written now (the disk keeps the map from
   * before); the next save writes what memory holds.
   */
  atomically<T>(change: () => T): T {
    this.holding++;
    let ok = false;
    try {
      const out = change();
      ok = true;
      return out;
    } finally {
      this.holding--;
      if (ok && this.holding === 0 && this.held) void this.save();
    }
  }

  save(): Promise<void> {
    if (this.holding > 0) {
      this.held = true;
      return Promise.resolve();
    }
    this.held = false;
    return this.writer.write(this.path, new TextEncoder().encode(JSON.stringify(this.toJSON(), null, 1)));
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
