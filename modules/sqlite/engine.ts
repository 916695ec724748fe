/**
 * SQLite databases for sqlite:distro:sys, run inside its worker: one file per
 * (package, db), WAL journaling, a read-only connection for queries.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { DbFiles, JOURNAL } from "../db/files.ts";
import { isSingleWrite, paramList, type SqlParam } from "./statements.ts";
import { WorkerRefusal } from "../../runtime/kernel/module_worker.ts";

/** A write to run: one statement, or a JSON batch [[statement, params], ...] checked here. */
export type WriteOp = { sql: string; params: SqlParam[] } | { batch: Uint8Array };

interface Db {
  rw: DatabaseSync;
  ro: DatabaseSync;
  /** Prepared statements by SQL text, so a repeated statement compiles once. */
  cache: Map<string, StatementSync>;
}

const CACHE = 128;

function prepared(h: Db, conn: DatabaseSync, sql: string): StatementSync {
  const key = (conn === h.ro ? "r:" : "w:") + sql;
  let s = h.cache.get(key);
  if (!s) {
    s = conn.prepare(sql);
    if (h.cache.size >= CACHE) h.cache.delete(h.cache.keys().next().value!);
    h.cache.set(key, s);
  }
  return s;
}

/** Rows as JSON-ready objects: bytes become arrays of integers, as serde writes Vec<u8>. */
function jsonRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = v instanceof Uint8Array ? [...v] : typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}

export class SqliteEngine extends DbFiles<Db> {
  constructor(root: string) {
    super(root, ".sqlite");
  }

  protected openHandle(path: string): Db {
    const rw = new DatabaseSync(path, { timeout: 5000 });
    rw.exec(JOURNAL);
    const ro = new DatabaseSync(path, { readOnly: true, timeout: 5000 });
    return { rw, ro, cache: new Map() };
  }

  protected closeHandle(h: Db) {
    h.ro.close();
    h.rw.close();
  }

  query(pkg: string, db: string, sql: string, params: SqlParam[]) {
    const h = this.handle(pkg, db);
    const rows = prepared(h, h.ro, sql).all(...params) as Record<string, unknown>[];
    return rows.map(jsonRow);
  }

  /** Runs writes in one transaction: all of them, or none. */
  write(pkg: string, db: string, ops: WriteOp[]) {
    const h = this.handle(pkg, db);
    const { rw } = h;
    const statements: [string, SqlParam[]][] = [];
    for (const op of ops) {
      if ("sql" in op) statements.push([op.sql, op.params]);
      else statements.push(...checkBatch(op.batch));
    }
    rw.exec("BEGIN");
    try {
      let last = "", stmt: StatementSync | null = null;
      for (const [sql, params] of statements) {
        if (sql !== last) {
          stmt = prepared(h, rw, sql);
          last = sql;
        }
        stmt!.run(...params);
      }
      rw.exec("COMMIT");
    } catch (e) {
      rw.exec("ROLLBACK");
      throw e;
    }
    return null;
  }
}

/**
 * A batch's statements, `{"sql": [statement, ...], "ops": [[index, params], ...]}`:
 * each statement a single write, each parameter list valid, or the book's error by name.
 */
function checkBatch(bytes: Uint8Array): [string, SqlParam[]][] {
  let batch: { sql?: unknown; ops?: unknown };
  try {
    batch = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new WorkerRefusal("InvalidParameters");
  }
  const { sql, ops } = batch ?? {};
  if (!Array.isArray(sql) || !Array.isArray(ops)) throw new WorkerRefusal("MalformedRequest");
  for (const s of sql) if (typeof s !== "string" || !isSingleWrite(s)) throw new WorkerRefusal("NotAWriteKeyword");
  return ops.map((op) => {
    if (!Array.isArray(op) || !Number.isInteger(op[0]) || op[0] < 0 || op[0] >= sql.length) {
      throw new WorkerRefusal("MalformedRequest");
    }
    const params = paramList(op[1] ?? []);
    if (!params) throw new WorkerRefusal("InvalidParameters");
    return [sql[op[0]] as string, params] as [string, SqlParam[]];
  });
}
