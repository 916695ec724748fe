/**
 * What kv:distro:sys and sqlite:distro:sys share: database names and where
 * they live, the read/write capabilities `{kind, db_key: [package, db]}`,
 * and transactions that belong to the process that began them.
 */
import { type Capability, formatAddress, parsePackageId, type ProcessId } from "../../runtime/types.ts";
import { ModuleError } from "../../runtime/kernel/module_answer.ts";

const DB_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** The book's KvError or SqliteError as a thrown value inside the module. */
export class DbRequestError extends ModuleError {}

export interface DbKey {
  packageId: string;
  db: string;
}

/** Validates package_id and db; a bad one is the module's MalformedRequest. */
export function dbKey(packageId: unknown, db: unknown): DbKey | null {
  if (typeof packageId !== "string" || typeof db !== "string") return null;
  try {
    parsePackageId(packageId);
  } catch {
    return null;
  }
  if (!DB_NAME.test(db) || db.includes("..")) return null;
  return { packageId, db };
}

export function dbCap(our: string, module: ProcessId, kind: "read" | "write", k: DbKey): Capability {
  return { issuer: formatAddress(our, module), params: JSON.stringify({ kind, db_key: [k.packageId, k.db] }) };
}

export interface Tx<Op> {
  owner: ProcessId;
  key: DbKey;
  ops: Op[];
}

/** Transactions by id; each belongs to one process and one database. */
export class Transactions<Op> {
  private txs = new Map<number, Tx<Op>>();

  begin(owner: ProcessId, key: DbKey): number {
    let id: number;
    do id = crypto.getRandomValues(new Uint32Array(1))[0]; while (this.txs.has(id) || id === 0);
    this.txs.set(id, { owner, key, ops: [] });
    return id;
  }

  /** The transaction, if `owner` began it on this database. */
  get(id: unknown, owner: ProcessId, key: DbKey): Tx<Op> | null {
    const tx = typeof id === "number" ? this.txs.get(id) : undefined;
    if (!tx || tx.owner !== owner || tx.key.packageId !== key.packageId || tx.key.db !== key.db) return null;
    return tx;
  }

  end(id: number) {
    this.txs.delete(id);
  }

  /** Discards what an exiting process left uncommitted. */
  dropOwnedBy(owner: ProcessId) {
    for (const [id, tx] of this.txs) if (tx.owner === owner) this.txs.delete(id);
  }

  /** Discards transactions on a database that is being removed. */
  dropFor(key: DbKey) {
    for (const [id, tx] of this.txs) {
      if (tx.key.packageId === key.packageId && tx.key.db === key.db) this.txs.delete(id);
    }
  }
}

/** Rust's Vec<u8> in JSON is an array of integers; anything else is refused. */
export function jsonBytes(v: unknown): Uint8Array | null {
  if (!Array.isArray(v) || v.length > 1 << 20) return null;
  for (const b of v) if (!Number.isInteger(b) || b < 0 || b > 255) return null;
  return Uint8Array.from(v as number[]);
}
