/** Database files on disk, for the engines inside the kv and sqlite workers. */
import { WorkerRefusal } from "../../runtime/kernel/module_worker.ts";

/** Opens or creates a SQLite file the way both engines want it: WAL, synced at checkpoints. */
export const JOURNAL = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";

/** Throws the engine's NoDb unless the database file exists. */
export function mustExist(path: string) {
  try {
    Deno.statSync(path);
  } catch {
    throw new WorkerRefusal("NoDb");
  }
}

/** Removes a SQLite file with its WAL and shared-memory files; NoDb if there was none. */
export function removeDbFiles(path: string) {
  let existed = false;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      Deno.removeSync(path + suffix);
      if (suffix === "") existed = true;
    } catch { /* not there */ }
  }
  if (!existed) throw new WorkerRefusal("NoDb");
}

/**
 * One open handle per (package, db) file, opened on first use: what both
 * engines keep. Subclasses say how a file opens and closes.
 */
export abstract class DbFiles<H> {
  private dbs = new Map<string, H>();
  constructor(protected root: string, private suffix: string) {}

  protected abstract openHandle(path: string): H;
  protected abstract closeHandle(h: H): void;

  protected path(pkg: string, db: string): string {
    return `${this.root}/${pkg}/${db}${this.suffix}`;
  }

  /** The open handle of an existing database, or NoDb. */
  protected handle(pkg: string, db: string): H {
    const h = this.dbs.get(`${pkg}/${db}`);
    if (h) return h;
    mustExist(this.path(pkg, db));
    return this.openFile(pkg, db);
  }

  private openFile(pkg: string, db: string): H {
    Deno.mkdirSync(`${this.root}/${pkg}`, { recursive: true });
    const h = this.openHandle(this.path(pkg, db));
    this.dbs.set(`${pkg}/${db}`, h);
    return h;
  }

  open(pkg: string, db: string) {
    if (!this.dbs.has(`${pkg}/${db}`)) this.openFile(pkg, db);
    return null;
  }

  remove(pkg: string, db: string) {
    const h = this.dbs.get(`${pkg}/${db}`);
    if (h) this.closeHandle(h);
    this.dbs.delete(`${pkg}/${db}`);
    removeDbFiles(this.path(pkg, db));
    return null;
  }

  exists(pkg: string, db: string) {
    this.handle(pkg, db);
    return null;
  }

  close() {
    for (const h of this.dbs.values()) this.closeHandle(h);
    this.dbs.clear();
    return null;
  }
}
