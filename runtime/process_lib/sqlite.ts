/** The book's sqlite helpers: `const db = await sqlite.open(pkg, "name"); await db.write(sql, params)`. */
import { dbCapability, DbError, dbRequest } from "./db.ts";

export { DbError };
export type SqlValue = null | boolean | number | string | number[];

export class Sqlite {
  /** Writes queued per transaction: they run at commit, so they travel with it. */
  private queued = new Map<number, [string, SqlValue[]][]>();
  constructor(readonly packageId: string, readonly db: string) {}
  /** Rows of a read query (SELECT, WITH, ...), each an object of column → value. */
  async read(query: string, params: SqlValue[] = []): Promise<Record<string, SqlValue>[]> {
    const r = await dbRequest("sqlite", this.packageId, this.db, { Query: query }, json(params));
    return JSON.parse(new TextDecoder().decode(r.blob ?? new Uint8Array()));
  }
  /**
   * A write statement (INSERT, UPDATE, CREATE, ...). In transaction `txId` it is
   * queued and runs at commitTx, which reports any error in it.
   */
  async write(statement: string, params: SqlValue[] = [], txId: number | null = null): Promise<void> {
    if (txId !== null) {
      let q = this.queued.get(txId);
      if (!q) this.queued.set(txId, q = []);
      q.push([statement, params]);
      return;
    }
    await dbRequest("sqlite", this.packageId, this.db, { Write: { statement, tx_id: null } }, json(params));
  }
  async beginTx(): Promise<number> {
    return ((await dbRequest("sqlite", this.packageId, this.db, "BeginTx")).body as { BeginTx: { tx_id: number } })
      .BeginTx.tx_id;
  }
  async commitTx(txId: number): Promise<void> {
    const q = this.queued.get(txId);
    this.queued.delete(txId);
    if (q?.length) {
      // Each distinct statement travels once: {"sql": [...], "ops": [[index, params], ...]}.
      const index = new Map<string, number>();
      const ops = q.map(([sql, params]) => {
        let i = index.get(sql);
        if (i === undefined) index.set(sql, i = index.size);
        return [i, params];
      });
      const blob = new TextEncoder().encode(JSON.stringify({ sql: [...index.keys()], ops }));
      await dbRequest("sqlite", this.packageId, this.db, { WriteBatch: { tx_id: txId } }, blob);
    }
    await dbRequest("sqlite", this.packageId, this.db, { Commit: { tx_id: txId } });
  }
  capability(kind: "read" | "write") {
    return dbCapability("sqlite", kind, this.packageId, this.db);
  }
}

function json(params: SqlValue[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(params));
}

export async function open(packageId: string, db: string): Promise<Sqlite> {
  await dbRequest("sqlite", packageId, db, "Open");
  return new Sqlite(packageId, db);
}

export function attach(packageId: string, db: string): Sqlite {
  return new Sqlite(packageId, db);
}

export async function removeDb(packageId: string, db: string): Promise<void> {
  await dbRequest("sqlite", packageId, db, "RemoveDb");
}

export { DbError as SqliteError };
