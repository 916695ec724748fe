/** sqlite:distro:sys's worker: read/write on <home>/sqlite only. */
import { serveCalls } from "../../runtime/kernel/module_worker.ts";
import { SqliteEngine, type WriteOp } from "./engine.ts";
import type { SqlParam } from "./statements.ts";

let engine: SqliteEngine | null = null;
serveCalls({
  init: (root: string) => {
    engine = new SqliteEngine(root);
    return null;
  },
  open: (pkg: string, db: string) => engine!.open(pkg, db),
  remove: (pkg: string, db: string) => engine!.remove(pkg, db),
  exists: (pkg: string, db: string) => engine!.exists(pkg, db),
  query: (pkg: string, db: string, sql: string, params: SqlParam[]) => engine!.query(pkg, db, sql, params),
  write: (pkg: string, db: string, ops: WriteOp[]) => engine!.write(pkg, db, ops),
  close: () => engine?.close() ?? null,
});
