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
import { hasSecondStatement, isRead, isWrite, parseParams, type SqlParam } from "./statements.ts";

export const SQLITE = "sqlite:distro:sys";

export class SqliteModule extends DbModule<[string, SqlParam[]]> {
  constructor(k: KernelHandle) {
    super(k, SQLITE, "sqlite", new URL("./worker.ts", import.meta.url), "RusqliteError");
  }

  protected async act(a: DbAction): Promise<[unknown, LazyLoadBlob | null]> {
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
          this.tx(arg.tx_id, a).ops.push([arg.statement, params]);
        } else await this.engine("write", key.packageId, key.db, [[arg.statement, params]]);
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
