/**
 * The KV store itself, run inside kv:distro:sys's worker: one SQLite file per
 * (package, db) with a single key/value table. WAL journaling: a write that
 * was acknowledged survives the node being killed.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { DbFiles, JOURNAL } from "../db/files.ts";

export type KvOp = { set: [Uint8Array, Uint8Array] } | { del: Uint8Array };

interface Handle {
  db: DatabaseSync;
  get: StatementSync;
  set: StatementSync;
  del: StatementSync;
}

export class KvEngine extends DbFiles<Handle> {
  constructor(root: string) {
    super(root, ".kv.sqlite");
  }

  protected openHandle(path: string): Handle {
    const d = new DatabaseSync(path, { timeout: 5000 });
    d.exec(JOURNAL);
    d.exec("CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
    return {
      db: d,
      get: d.prepare("SELECT value FROM kv WHERE key = ?"),
      set: d.prepare("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
      del: d.prepare("DELETE FROM kv WHERE key = ?"),
    };
  }

  protected closeHandle(h: Handle) {
    h.db.close();
  }

  get(pkg: string, db: string, key: Uint8Array): Uint8Array | null {
    const row = this.handle(pkg, db).get.get(key) as { value: Uint8Array } | undefined;
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
}
