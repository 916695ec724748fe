/** sqlite:distro:sys: the book's SqliteRequest, SqliteAction, SqliteResponse and SqliteError. */
import type { PackageId } from "../types.ts";

export interface SqliteRequest {
  package_id: PackageId;
  db: string;
  action: SqliteAction;
}

export type SqliteAction =
  | "Open"
  | "RemoveDb"
  | { Write: { statement: string; tx_id: number | null } }
  /** hyperdeno: a transaction's queued writes in one request (blob: {"sql": [...], "ops": [[index, params], ...]}). */
  | { WriteBatch: { tx_id: number } }
  | { Query: string }
  | "BeginTx"
  | { Commit: { tx_id: number } };

export type SqliteResponse = "Ok" | "Read" | { BeginTx: { tx_id: number } } | { Err: SqliteError };

export type SqliteError =
  | { NoDb: [PackageId, string] }
  | { NoTx: number | null }
  | "NoWriteCap"
  | "NoReadCap"
  | "MismatchingPackageId"
  | "AddCapFailed"
  | "NotAWriteKeyword"
  | "NotAReadKeyword"
  | "InvalidParameters"
  | "MalformedRequest"
  | { RusqliteError: string }
  | { IOError: string };
