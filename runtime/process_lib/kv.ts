/** The book's kv helpers: `const db = await kv.open(pkg, "name"); await db.set(k, v)`. */
import { dbCapability, DbError, dbRequest } from "./db.ts";
import { decodeFrames, encodeFrames } from "../frames.ts";

export { DbError };
type Bytes = Uint8Array | string;
const bytes = (b: Bytes) => typeof b === "string" ? new TextEncoder().encode(b) : b;

interface PendingGet {
  key: Uint8Array;
  resolve(v: Uint8Array | null): void;
  reject(e: unknown): void;
}

export class Kv {
  /** Gets asked for in this turn; sent together as one request. */
  private gets: PendingGet[] = [];

  constructor(readonly packageId: string, readonly db: string) {}

  private req(action: unknown, blob?: Uint8Array) {
    // Gets asked for earlier go first, so a later write never overtakes them.
    this.flushGets();
    return dbRequest("kv", this.packageId, this.db, action, blob);
  }

  /** The value, or null for a key that is not there. Gets in one turn travel together. */
  get(key: Bytes): Promise<Uint8Array | null> {
    return new Promise((resolve, reject) => {
      if (this.gets.length === 0) queueMicrotask(() => this.flushGets());
      this.gets.push({ key: bytes(key), resolve, reject });
    });
  }

  private flushGets() {
    const batch = this.gets;
    if (batch.length === 0) return;
    this.gets = [];
    if (batch.length === 1) {
      const [g] = batch;
      dbRequest("kv", this.packageId, this.db, { Get: [...g.key] }).then(
        (r) => g.resolve(r.blob ?? new Uint8Array()),
        (e) => e instanceof DbError && e.error === "KeyNotFound" ? g.resolve(null) : g.reject(e),
      );
      return;
    }
    dbRequest("kv", this.packageId, this.db, "GetMany", encodeFrames(batch.map((g) => g.key))).then(
      (r) => {
        const values = decodeFrames(r.blob ?? new Uint8Array());
        batch.forEach((g, i) => g.resolve(values?.[i] ?? null));
      },
      (e) => batch.forEach((g) => g.reject(e)),
    );
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
