/**
 * chain:app-store:sys's SQLite file (app_store_chain.sqlite in app-store:sys's drive): the App Store Note logs read
 * (so a reorganization deletes the undone ones and the listing is worked out again from what remains), recent block
 * hashes (to find where a reorganization starts), names found for namehashes, the listings, the entries not listed
 * with their reason, and auto-update choices (kept apart so a republish or a reorganization leaves them alone).
 */
import { sqlite } from "@hyperdeno/process_lib";
import type { OnchainApp, OnchainMetadata, PackageId, UnlistedApp, UnlistedReason } from "../api/chain.ts";

type Db = Awaited<ReturnType<typeof sqlite.open>>;

const VERSION = "1";

const TABLES = [
  "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  `CREATE TABLE IF NOT EXISTS notes (block INTEGER NOT NULL, log_index INTEGER NOT NULL, block_hash TEXT NOT NULL,
     parent TEXT NOT NULL, label TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (block, log_index))`,
  "CREATE INDEX IF NOT EXISTS notes_parent ON notes (parent)",
  "CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL)",
  "CREATE TABLE IF NOT EXISTS names (hash TEXT PRIMARY KEY, name TEXT NOT NULL)",
  `CREATE TABLE IF NOT EXISTS listings (parent TEXT PRIMARY KEY, package_name TEXT NOT NULL,
     publisher_node TEXT NOT NULL, tba TEXT NOT NULL, metadata_uri TEXT NOT NULL, metadata_hash TEXT NOT NULL,
     metadata_json TEXT NOT NULL, block INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS unlisted (parent TEXT PRIMARY KEY, package_name TEXT NOT NULL,
     publisher_node TEXT NOT NULL, metadata_uri TEXT NOT NULL, metadata_hash TEXT NOT NULL, reason TEXT NOT NULL)`,
  "CREATE TABLE IF NOT EXISTS auto_update (package_name TEXT NOT NULL, publisher_node TEXT NOT NULL, " +
  "PRIMARY KEY (package_name, publisher_node))",
];
/** What Reset drops (names stay: a namehash's name never changes; auto-update choices are the user's). */
const INDEX_TABLES = ["notes", "blocks", "listings", "unlisted"];

export interface Listing {
  parent: string;
  package_id: PackageId;
  tba: string;
  metadata_uri: string;
  metadata_hash: string;
  metadata: OnchainMetadata;
  block: number;
}

export interface StoredNote {
  block: number;
  index: number;
  label: string;
  data: string;
}

const pid = (r: Record<string, unknown>): PackageId => ({
  package_name: String(r.package_name),
  publisher_node: String(r.publisher_node),
});

export class Store {
  private constructor(private db: Db) {}

  static async open(): Promise<Store> {
    const db = await sqlite.open("app-store:sys", "app_store_chain.sqlite");
    for (const t of TABLES) await db.write(t);
    const s = new Store(db);
    if (await s.meta("version") !== VERSION) {
      await s.dropIndex();
      await s.setMeta("version", VERSION);
    }
    return s;
  }

  async meta(key: string): Promise<string | null> {
    const rows = await this.db.read("SELECT value FROM meta WHERE key = ?", [key]);
    return rows.length ? String(rows[0].value) : null;
  }

  setMeta(key: string, value: string): Promise<void> {
    return this.db.write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value]);
  }

  async dropIndex(): Promise<void> {
    const tx = await this.db.beginTx();
    for (const t of INDEX_TABLES) await this.db.write(`DELETE FROM ${t}`, [], tx);
    await this.db.write("DELETE FROM meta WHERE key IN ('last_block', 'chain_id', 'genesis')", [], tx);
    await this.db.commitTx(tx);
  }

  // ------------------------------------------------------------ the scan

  /** Keeps a window's notes, the block hashes seen and the new last block, at once. */
  async saveWindow(
    notes: { block: number; index: number; blockHash: string; parent: string; label: string; data: string }[],
    hashes: [number, string][],
    last: number,
    names: [string, string][] = [],
  ): Promise<void> {
    const tx = await this.db.beginTx();
    for (const n of notes) {
      await this.db.write(
        "INSERT OR REPLACE INTO notes (block, log_index, block_hash, parent, label, data) VALUES (?, ?, ?, ?, ?, ?)",
        [n.block, n.index, n.blockHash, n.parent, n.label, n.data],
        tx,
      );
    }
    for (const [n, h] of hashes) {
      await this.db.write("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)", [n, h], tx);
    }
    for (const [hash, name] of names) {
      await this.db.write("INSERT OR REPLACE INTO names (hash, name) VALUES (?, ?)", [hash, name], tx);
    }
    await this.db.write("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_block', ?)", [String(last)], tx);
    // The newest 128 blocks' hashes are enough to find where a reorganization starts.
    await this.db.write(
      "DELETE FROM blocks WHERE number NOT IN (SELECT number FROM blocks ORDER BY number DESC LIMIT 128)",
      [],
      tx,
    );
    await this.db.commitTx(tx);
  }

  async recentBlocks(): Promise<[number, string][]> {
    const rows = await this.db.read("SELECT number, hash FROM blocks ORDER BY number DESC");
    return rows.map((r) => [Number(r.number), String(r.hash)]);
  }

  /** Undoes everything read after block `fork`; returns the entries whose notes went. */
  async rollBack(fork: number): Promise<string[]> {
    const rows = await this.db.read("SELECT DISTINCT parent FROM notes WHERE block > ?", [fork]);
    const tx = await this.db.beginTx();
    await this.db.write("DELETE FROM notes WHERE block > ?", [fork], tx);
    await this.db.write("DELETE FROM blocks WHERE number > ?", [fork], tx);
    await this.db.write("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_block', ?)", [String(fork)], tx);
    await this.db.commitTx(tx);
    return rows.map((r) => String(r.parent));
  }

  /** The newest note labelled `label` under `parent`, if any. */
  async latestNote(parent: string, label: string): Promise<StoredNote | null> {
    const rows = await this.db.read(
      "SELECT block, log_index, label, data FROM notes WHERE parent = ? AND label = ? ORDER BY block DESC, log_index DESC LIMIT 1",
      [parent, label],
    );
    if (!rows.length) return null;
    const r = rows[0];
    return { block: Number(r.block), index: Number(r.log_index), label: String(r.label), data: String(r.data) };
  }

  /** Entries with notes but neither listed nor unlisted: unpublished ones, or ones not worked out yet. */
  async unsettledParents(): Promise<string[]> {
    const rows = await this.db.read(
      `SELECT DISTINCT parent FROM notes WHERE parent NOT IN (SELECT parent FROM listings)
         AND parent NOT IN (SELECT parent FROM unlisted)`,
    );
    return rows.map((r) => String(r.parent));
  }

  // ------------------------------------------------------------ names

  async name(hash: string): Promise<string | null> {
    const rows = await this.db.read("SELECT name FROM names WHERE hash = ?", [hash]);
    return rows.length ? String(rows[0].name) : null;
  }

  setName(hash: string, name: string): Promise<void> {
    return this.db.write("INSERT OR REPLACE INTO names (hash, name) VALUES (?, ?)", [hash, name]);
  }

  // ------------------------------------------------------------ listings

  async listing(parent: string): Promise<Listing | null> {
    const rows = await this.db.read("SELECT * FROM listings WHERE parent = ?", [parent]);
    return rows.length ? toListing(rows[0]) : null;
  }

  async list(filter?: PackageId): Promise<OnchainApp[]> {
    const rows = filter
      ? await this.db.read("SELECT * FROM listings WHERE package_name = ? AND publisher_node = ?", [
        filter.package_name,
        filter.publisher_node,
      ])
      : await this.db.read("SELECT * FROM listings ORDER BY package_name, publisher_node");
    const auto = new Set(
      (await this.db.read("SELECT package_name, publisher_node FROM auto_update")).map((r) =>
        `${r.package_name}:${r.publisher_node}`
      ),
    );
    return rows.map(toListing).map((l) => ({
      package_id: l.package_id,
      tba: l.tba,
      metadata_uri: l.metadata_uri,
      metadata_hash: l.metadata_hash,
      metadata: l.metadata,
      auto_update: auto.has(`${l.package_id.package_name}:${l.package_id.publisher_node}`),
      binding_power: null,
    }));
  }

  async setListing(l: Listing): Promise<void> {
    const tx = await this.db.beginTx();
    await this.db.write("DELETE FROM unlisted WHERE parent = ?", [l.parent], tx);
    await this.db.write(
      `INSERT OR REPLACE INTO listings (parent, package_name, publisher_node, tba, metadata_uri, metadata_hash,
         metadata_json, block) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        l.parent,
        l.package_id.package_name,
        l.package_id.publisher_node,
        l.tba,
        l.metadata_uri,
        l.metadata_hash,
        JSON.stringify(l.metadata),
        l.block,
      ],
      tx,
    );
    await this.db.commitTx(tx);
  }

  async setUnlisted(parent: string, u: UnlistedApp): Promise<void> {
    const tx = await this.db.beginTx();
    await this.db.write("DELETE FROM listings WHERE parent = ?", [parent], tx);
    await this.db.write(
      `INSERT OR REPLACE INTO unlisted (parent, package_name, publisher_node, metadata_uri, metadata_hash, reason)
         VALUES (?, ?, ?, ?, ?, ?)`,
      [
        parent,
        u.package_id.package_name,
        u.package_id.publisher_node,
        u.metadata_uri,
        u.metadata_hash,
        JSON.stringify(u.reason),
      ],
      tx,
    );
    await this.db.commitTx(tx);
  }

  /** Forgets an entry: unpublished, or its notes undone. */
  async drop(parent: string): Promise<void> {
    const tx = await this.db.beginTx();
    await this.db.write("DELETE FROM listings WHERE parent = ?", [parent], tx);
    await this.db.write("DELETE FROM unlisted WHERE parent = ?", [parent], tx);
    await this.db.commitTx(tx);
  }

  async unlisted(): Promise<UnlistedApp[]> {
    const rows = await this.db.read("SELECT * FROM unlisted ORDER BY package_name, publisher_node");
    return rows.map((r) => ({
      package_id: pid(r),
      metadata_uri: String(r.metadata_uri),
      metadata_hash: String(r.metadata_hash),
      reason: JSON.parse(String(r.reason)) as UnlistedReason,
    }));
  }

  async unlistedParents(kind: string): Promise<string[]> {
    const rows = await this.db.read("SELECT parent, reason FROM unlisted");
    return rows.filter((r) => String(r.reason).startsWith(`{"${kind}"`)).map((r) => String(r.parent));
  }

  async count(table: "listings" | "unlisted"): Promise<number> {
    return Number((await this.db.read(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  }

  // ------------------------------------------------------------ auto-update

  async setAutoUpdate(p: PackageId, on: boolean): Promise<void> {
    await this.db.write(
      on
        ? "INSERT OR IGNORE INTO auto_update (package_name, publisher_node) VALUES (?, ?)"
        : "DELETE FROM auto_update WHERE package_name = ? AND publisher_node = ?",
      [p.package_name, p.publisher_node],
    );
  }

  async autoUpdate(p: PackageId): Promise<boolean> {
    const rows = await this.db.read(
      "SELECT 1 FROM auto_update WHERE package_name = ? AND publisher_node = ?",
      [p.package_name, p.publisher_node],
    );
    return rows.length > 0;
  }
}

function toListing(r: Record<string, unknown>): Listing {
  return {
    parent: String(r.parent),
    package_id: pid(r),
    tba: String(r.tba),
    metadata_uri: String(r.metadata_uri),
    metadata_hash: String(r.metadata_hash),
    metadata: JSON.parse(String(r.metadata_json)),
    block: Number(r.block),
  };
}
