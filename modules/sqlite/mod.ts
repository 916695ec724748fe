/**
 * sqlite:distro:sys — the book's SQLite API. Checks happen on the kernel's
 * thread; statements run in a worker that may touch only <home>/sqlite, so a
 * long query never stalls message routing.
 */
import type { KernelHandle } from "../../runtime/kernel/module.ts";
import type { LazyLoadBlob } from "../../runtime/types.ts";
import { jsonBytes } from "../../runtime/types.ts";
import { DbRequestError } from "../db/access.ts";
import { type DbAction, DbModule } from "../db/db_module.ts";
import { hasSecondStatement, isRead, isWrite, parseParams } from "./statements.ts";
import type { WriteOp } from "./engine.ts";
import { SQLITE } from "../../runtime/api/processes.ts";
import type { SqliteResponse } from "../../runtime/api/sqlite.ts";

/**
 * How long one statement (or one commit) may run. node:sqlite offers no
 * interrupt or progress handler, so a runaway query is stopped by killing its
 * package's engine process; the next request starts a fresh one.
 */
export const SQLITE_TIME_LIMIT_MS = 10_000;

export class SqliteModule extends DbModule<WriteOp> {
  constructor(k: KernelHandle) {
    super(k, SQLITE, "sqlite", new URL("./worker.ts", import.meta.url), "RusqliteError", {
      process: true,
      timeLimitMs: SQLITE_TIME_LIMIT_MS,
      idleMs: 60_000,
    });
  }

  protected async act(a: DbAction): Promise<[SqliteResponse, LazyLoadBlob | null]> {
    const { key } = a;
    switch (a.name) {
      case "Query": {
        this.cap(a.source, "read", key);
        if (typeof a.arg !== "string") throw new DbRequestError("MalformedRequest");
        if (!isRead(a.arg) || hasSecondStatement(a.arg)) throw new DbRequestError("NotAReadKeyword");
        const params = parseParams(a.blob);
        if (!params) throw new DbRequestError("InvalidParameters");
        const rows = await this.engine<unknown[]>("query", key.packageId, key.db, a.arg, params);
        return ["Read", { mime: "application/json", bytes: jsonBytes(rows) }];
      }
      case "Write": {
        this.cap(a.source, "write", key);
        const arg = a.arg as { statement?: unknown; tx_id?: unknown } | undefined;
        if (typeof arg?.statement !== "string") throw new DbRequestError("MalformedRequest");
        if (!isWrite(arg.statement) || hasSecondStatement(arg.statement)) throw new DbRequestError("NotAWriteKeyword");
        const params = parseParams(a.blob);
        if (!params) throw new DbRequestError("InvalidParameters");
        if (arg.tx_id !== undefined && arg.tx_id !== null) {
          this.tx(arg.tx_id, a).ops.push({ sql: arg.statement, params });
        } else await this.engine("write", key.packageId, key.db, [{ sql: arg.statement, params }]);
        return ["Ok", null];
      }
      case "WriteBatch": {
        // hyperdeno extension: many transaction writes in one request (blob: JSON
        // {"sql": [statement, ...], "ops": [[statement index, params], ...]}). process_lib queues a transaction's writes
        // and sends them with the commit, as they only run at commit anyway. The
        // batch is parsed and checked in the module's worker, off the kernel's thread.
        this.cap(a.source, "write", key);
        const tx = this.tx((a.arg as { tx_id?: unknown } | undefined)?.tx_id, a);
        if (!a.blob) throw new DbRequestError("InvalidParameters");
        tx.ops.push({ batch: a.blob });
        return ["Ok", null];
      }
      case "Commit": {
        this.cap(a.source, "write", key);
        const id = (a.arg as { tx_id?: unknown } | undefined)?.tx_id;
        const tx = this.tx(id, a);
        this.txs.end(id as number);
        await this.engine("write", key.packageId, key.db, tx.ops);
        return ["Ok", null];
      }
      default:
        throw new DbRequestError("MalformedRequest");
    }
  }
}
