/** kv:distro:sys: the book's KvRequest, KvAction, KvResponse and KvError (keys travel as JSON byte arrays). */
import type { PackageId } from "../types.ts";

export interface KvRequest {
  package_id: PackageId;
  db: string;
  action: KvAction;
}

export type KvAction =
  | "Open"
  | "RemoveDb"
  | { Set: { key: number[]; tx_id: number | null } }
  | { Delete: { key: number[]; tx_id: number | null } }
  | { Get: number[] }
  /** hyperdeno: many gets at once (blob: frames of keys; answer blob: frames of values). */
  | "GetMany"
  | "BeginTx"
  | { Commit: { tx_id: number } };

export type KvResponse =
  | "Ok"
  | { BeginTx: { tx_id: number } }
  | { Get: number[] }
  | "GetMany"
  | { Err: KvError };

export type KvError =
  | { NoDb: [PackageId, string] }
  | "KeyNotFound"
  | { NoTx: number | null }
  | "NoWriteCap"
  | "NoReadCap"
  | "MismatchingPackageId"
  | "AddCapFailed"
  | "MalformedRequest"
  | { RocksDBError: string }
  | { IOError: string };
