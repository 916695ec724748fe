/** The book's kv helpers: `const db = await kv.open(pkg, "name"); await db.set(k, v)`. */
import { dbCapability, DbError, dbRequest } from "./db.ts";

export { DbError };
type Bytes = Uint8Array | string;
const bytes = (b: Bytes) => typeof b === "string" ? new TextEncoder().encode(b) : b;

export class Kv {
  constructor(readonly packageId: string, readonly db: string) {}
  private req(action: unknown, blob?: Uint8Array) {
    return dbRequest("kv", this.packageId, this.db, action, blob);
  }
  /** The value, or null for a key that is not there. */
  async get(key: Bytes): Promise<Uint8Array | null> {
    try {
      return (await this.req({ Get: [...bytes(key)] })).blob ?? new Uint8Array();
    } catch (e) {
      if (e instanceof DbError && e.error === "KeyNotFound") return null;
      throw e;
    }
  }
  async set(key: Bytes, value: Bytes, txId: number | null = null): Promise<void> {
    await this.req({ Set: { key: [...bytes(key)], tx_id: txId } }, bytes(value));
  }
  async delete(key: Bytes, txId: number | null = null): Promise<void> {
    await this.req({ Delete: { key: [...bytes(key)], tx_id: txId } });
  }
  async beginTx(): Promise<number> {
    return ((await this.req("BeginTx")).body as { BeginTx: { tx_id: number } }).BeginTx.tx_id;
  }
  async commitTx(txId: number): Promise<void> {
    await this.req({ Commit: { tx_id: txId } });
  }
  capability(kind: "read" | "write") {
    return dbCapability("kv", kind, this.packageId, this.db);
  }
}

/** Opens (creating if needed) a database of this process's package; the caller gets its capabilities. */
export async function open(packageId: string, db: string): Promise<Kv> {
  await dbRequest("kv", packageId, db, "Open");
  return new Kv(packageId, db);
}

/** A handle on a database someone else opened and shared capabilities for. */
export function attach(packageId: string, db: string): Kv {
  return new Kv(packageId, db);
}

export async function removeDb(packageId: string, db: string): Promise<void> {
  await dbRequest("kv", packageId, db, "RemoveDb");
}
