/**
 * SQLite databases for sqlite:distro:sys, run inside its worker: one file per
 * (package, db), WAL journaling, a read-only connection for queries.
 */
import { DatabaseSync } from "node:sqlite";
import type { SqlParam } from "./statements.ts";

interface Db {
  rw: DatabaseSync;
  ro: DatabaseSync;
}

/** Rows as JSON-ready objects: bytes become arrays of integers, as serde writes Vec<u8>. */
function jsonRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = v instanceof Uint8Array ? [...v] : typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}

export class SqliteEngine {
  private dbs = new Map<string, Db>();
  constructor(private root: string) {}

  private path(pkg: string, db: string) {
    return `${this.root}/${pkg}/${db}.sqlite`;
  }

  private handle(pkg: string, db: string): Db {
    const h = this.dbs.get(`${pkg}/${db}`);
    if (h) return h;
    try {
      Deno.statSync(this.path(pkg, db));
    } catch {
      throw new Error("NoDb");
    }
    return this.openFile(pkg, db);
  }

  private openFile(pkg: string, db: string): Db {
    Deno.mkdirSync(`${this.root}/${pkg}`, { recursive: true });
    const rw = new DatabaseSync(this.path(pkg, db));
    rw.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    const ro = new DatabaseSync(this.path(pkg, db), { readOnly: true });
    const h = { rw, ro };
    this.dbs.set(`${pkg}/${db}`, h);
    return h;
  }

  open(pkg: string, db: string) {
    if (!this.dbs.has(`${pkg}/${db}`)) this.openFile(pkg, db);
    return null;
  }

  remove(pkg: string, db: string) {
    const h = this.dbs.get(`${pkg}/${db}`);
    h?.ro.close();
    h?.rw.close();
    this.dbs.delete(`${pkg}/${db}`);
    let existed = false;
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        Deno.removeSync(this.path(pkg, db) + suffix);
        if (!suffix) existed = true;
      } catch { /* not there */ }
    }
    if (!existed) throw new Error("NoDb");
    return null;
  }

  exists(pkg: string, db: string) {
    this.handle(pkg, db);
    return null;
  }

  query(pkg: string, db: string, sql: string, params: SqlParam[]) {
    const rows = this.handle(pkg, db).ro.prepare(sql).all(...params) as Record<string, unknown>[];
    return rows.map(jsonRow);
  }

  /** Runs statements in one transaction: all of them, or none. */
  write(pkg: string, db: string, statements: [string, SqlParam[]][]) {
    const { rw } = this.handle(pkg, db);
    rw.exec("BEGIN");
    try {
      for (const [sql, params] of statements) rw.prepare(sql).run(...params);
      rw.exec("COMMIT");
    } catch (e) {
      rw.exec("ROLLBACK");
      throw e;
    }
    return null;
  }

  close() {
    for (const h of this.dbs.values()) {
      h.ro.close();
      h.rw.close();
    }
    this.dbs.clear();
  }
}
