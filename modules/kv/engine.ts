/**
 * The KV store itself, run inside kv:distro:sys's worker: one SQLite file per
 * (package, db) with a single key/value table. WAL journaling: a write that
 * was acknowledged survives the node being killed.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { JOURNAL, mustExist, removeDbFiles } from "../db/files.ts";

export type KvOp = { set: [Uint8Array, Uint8Array] } | { del: Uint8Array };

interface Handle {
  db: DatabaseSync;
  get: StatementSync;
  set: StatementSync;
  del: StatementSync;
}

export class KvEngine {
  private dbs = new Map<string, Handle>();
  constructor(private root: string) {}

  private path(pkg: string, db: string) {
    return `${this.root}/${pkg}/${db}.kv.sqlite`;
  }

  private handle(pkg: string, db: string): Handle {
    const key = `${pkg}/${db}`;
    let h = this.dbs.get(key);
    if (!h) {
      mustExist(this.path(pkg, db));
      h = this.openFile(pkg, db);
    }
    return h;
  }

  private openFile(pkg: string, db: string): Handle {
    Deno.mkdirSync(`${this.root}/${pkg}`, { recursive: true });
    const d = new DatabaseSync(this.path(pkg, db));
    d.exec(JOURNAL);
    d.exec("CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
    const h = {
      db: d,
      get: d.prepare("SELECT value FROM kv WHERE key = ?"),
      set: d.prepare("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
      del: d.prepare("DELETE FROM kv WHERE key = ?"),
    };
    this.dbs.set(`${pkg}/${db}`, h);
    return h;
  }

  open(pkg: string, db: string) {
    if (!this.dbs.has(`${pkg}/${db}`)) this.openFile(pkg, db);
    return null;
  }

  remove(pkg: string, db: string) {
    const h = this.dbs.get(`${pkg}/${db}`);
    h?.db.close();
    this.dbs.delete(`${pkg}/${db}`);
    removeDbFiles(this.path(pkg, db));
    return null;
  }

  exists(pkg: string, db: string) {
    this.handle(pkg, db);
    return null;
  }

  get(pkg: string, db: string, key: Uint8Array): Uint8Array | null {
    const row = this.handle(pkg, db).get.get(key) as
      | { value: Uint8Array }
      | undefined;
    return row ? new Uint8Array(row.value) : null;
  }

  getMany(pkg: string, db: string, keys: Uint8Array[]): (Uint8Array | null)[] {
    const h = this.handle(pkg, db);
    return keys.map((k) => {
      const row = h.get.get(k) as { value: Uint8Array } | undefined;
      return row ? new Uint8Array(row.value) : null;
    });
  }

  apply(pkg: string, db: string, ops: KvOp[]) {
    const h = this.handle(pkg, db);
    h.db.exec("BEGIN");
    try {
      for (const op of ops) {
        if ("set" in op) h.set.run(op.set[0], op.set[1]);
        else h.del.run(op.del);
      }
      h.db.exec("COMMIT");
    } catch (e) {
      h.db.exec("ROLLBACK");
      throw e;
    }
    return null;
  }

  close() {
    for (const h of this.dbs.values()) h.db.close();
    this.dbs.clear();
  }
}
