/** VFS, KV and SQLite through real processes in a booted node. */
import { assert, assertEquals } from "./assert.ts";
import {
  bootNode,
  injectJson,
  removeHome,
  type TestNode,
  waitFor,
  withNode as withPackages,
} from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

const OWNER = "owner:store:test.os";
const GUEST = "guest:guest:test.os";

const withNode = (f: (n: TestNode) => Promise<void>, home?: string) =>
  withPackages([`${FIXTURES}store`, `${FIXTURES}guest`], f, home);

Deno.test("vfs: the book's file and directory operations work from a process", () =>
  withNode(async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, OWNER, { Vfs: null });
    assertEquals(r.read1, "Hello!");
    assertEquals(r.exact, "ello");
    assertEquals(r.rest, "! World");
    assertEquals(r.len, 12);
    assertEquals(r.afterSetLen, "Jello");
    assertEquals(r.listing, ["store:test.os/data/sub/deeper/moved.txt:File"]);
    assertEquals(r.meta, { file_type: "Directory", len: (r.meta as { len: number }).len });
    assertEquals(r.gone, { NotFound: { path: "/store:test.os/data/sub" } });
    assert((r.pkgFiles as string[]).includes("store:test.os/pkg/manifest.json"), JSON.stringify(r.pkgFiles));
    const expected = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("Jello"));
    assertEquals(r.hash, [...new Uint8Array(expected)].map((b) => b.toString(16).padStart(2, "0")).join(""));
  }));

Deno.test("vfs: ReadAt and WriteAt land where they say, in order or not, between actions at the cursor", () =>
  withNode(async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, OWNER, { Positions: null });
    assertEquals(r.afterWrites, "eaCCbbbbddff");
    assertEquals([r.middle, r.next], ["bbbb", "ddff"]);
    assertEquals([r.atCursor, r.again, r.cursorAfter], ["aC", "eaC", "Cb"]);
    // More than 256 MiB past the end: refused, whether or not the last write ended where this one starts.
    for (const refused of [r.gap, r.farGap]) assertEquals(Object.keys(refused as object), ["BadRequest"]);
    assertEquals(r.len, 13);
  }));

Deno.test("vfs: paths that climb, repeat, hide NULs or leave the drive are refused", () =>
  withNode(async (n) => {
    await injectJson(n, OWNER, { Vfs: null });
    await Deno.mkdir(`${n.opts.home}/vfs/guest:test.os/data`, { recursive: true });
    await Deno.writeTextFile(`${n.opts.home}/vfs/guest:test.os/data/secret.txt`, "secret");
    const data = `${n.opts.home}/vfs/store:test.os/data`;
    await Deno.symlink("/etc", `${data}/link`);
    await Deno.symlink(`${data}/nowhere`, `${data}/dangling`);
    await Deno.writeTextFile(`${data}/target.txt`, "inside");
    await Deno.symlink(`${data}/target.txt`, `${data}/inner`);
    const r = await injectJson<Record<string, Record<string, unknown>>>(n, OWNER, { Escapes: null });
    const kinds = Object.values(r).map((e) => Object.keys(e)[0]);
    assertEquals(kinds, [
      "ParseError",
      "ParseError",
      "ParseError",
      "ParseError",
      "ParseError",
      "NoCap",
      "BadRequest",
      "ParseError",
      "BadRequest",
      "BadRequest",
      "BadRequest",
      "BadRequest",
    ]);
    for (const what of ["/etc/made-here", "/etc/not-there", `${data}/nowhere`]) {
      assert(!await Deno.stat(what).then(() => true, () => false), `${what} was made through a link`);
    }
  }));

Deno.test("kv: get, set, delete, KeyNotFound, transactions and NoDb", () =>
  withNode(async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, OWNER, { Kv: null });
    assertEquals(r, {
      alice: "1990-01-01",
      bob: null,
      beforeCommit: [null, "1990-01-01"],
      afterCommit: ["2000-02-02", null],
      badTx: { NoTx: (r.badTx as { NoTx: number }).NoTx },
      noCap: "NoReadCap",
      noDb: { NoDb: ["store:test.os", "temp"] },
    });
  }));

Deno.test("sqlite: writes, reads with every parameter type, transactions, and the book's errors", () =>
  withNode(async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, OWNER, { Sql: null });
    assertEquals(r.before, 1, "uncommitted rows are not visible");
    assertEquals(r.rows, [
      { name: "Bob", age: 42, score: 1.5, ok: 1, pic: [1, 2, 3], note: null },
      { name: "Eve", age: null, score: null, ok: null, pic: null, note: null },
      { name: "Steve", age: null, score: null, ok: null, pic: null, note: null },
    ]);
    assertEquals(r.notWrite, "NotAWriteKeyword");
    assertEquals(r.notRead, "NotAReadKeyword");
    assertEquals(Object.keys(r.sneakyWith as object)[0], "RusqliteError");
    assertEquals(r.twoStatements, "NotAWriteKeyword");
    assertEquals(r.badParams, "InvalidParameters");
    assertEquals(Object.keys(r.sqlError as object)[0], "RusqliteError");
    assertEquals(r.count, 3);
  }));

Deno.test("capabilities: another package reads only what it was given, and never writes", () =>
  withNode(async (n) => {
    await injectJson(n, OWNER, { Vfs: null });
    await injectJson(n, OWNER, { Kv: null });
    await injectJson(n, OWNER, { Sql: null });
    const before = await injectJson<{ guest: Record<string, unknown> }>(n, OWNER, { AskGuest: null });
    assertEquals(before.guest, {
      file: { err: { NoCap: { action: "OpenFile", path: "/store:test.os/data/hello.txt" } } },
      kv: { err: "NoReadCap" },
      sql: { err: "NoReadCap" },
      openTheirs: { err: "MismatchingPackageId" },
    });
    const drive = await injectJson<{ guest: Record<string, unknown> }>(n, OWNER, { ShareDrive: null });
    assertEquals(drive.guest.read, { ok: "Jello" });
    assertEquals(drive.guest.write, { err: { NoCap: { action: "Write", path: "/store:test.os/data/hello.txt" } } });
    const kvShared = await injectJson<{ guest: Record<string, unknown> }>(n, OWNER, { ShareKv: null });
    assertEquals(kvShared.guest, { read: { ok: "2000-02-02" }, write: { err: "NoWriteCap" } });
    const sqlShared = await injectJson<{ guest: Record<string, unknown> }>(n, OWNER, { ShareSql: null });
    assertEquals(sqlShared.guest, { read: { ok: [{ n: 3 }] }, write: { err: "NoWriteCap" } });
  }));

Deno.test("storage survives a node restart", async () => {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-store-" });
  await withNode(async (n) => {
    await injectJson(n, OWNER, { Vfs: null });
    await injectJson(n, OWNER, { Kv: null });
    await injectJson(n, OWNER, { Sql: null });
  }, home);
  const n = await bootNode({ home });
  try {
    assertEquals(await injectJson(n, OWNER, { Snapshot: null }), {
      file: "Jello",
      kv: "2000-02-02",
      sql: [{ name: "Bob" }, { name: "Eve" }, { name: "Steve" }],
    });
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("fuzz: random requests to vfs, kv and sqlite get errors and leave stored data intact", () =>
  withNode(async (n) => {
    await injectJson(n, OWNER, { Vfs: null });
    await injectJson(n, OWNER, { Kv: null });
    await injectJson(n, OWNER, { Sql: null });
    const snapshot = await injectJson(n, OWNER, { Snapshot: null });
    for (const seed of [1, 2, 3, 4, 5]) {
      const answers = await injectJson<Record<string, number>>(n, GUEST, { Fuzz: { seed, n: 300 } }, 60);
      const total = Object.values(answers).reduce((a, b) => a + b, 0);
      assertEquals(total, 300, JSON.stringify(answers));
      assert(
        Object.keys(answers).every((k) => k.startsWith("Err:") || k === '"Ok"' || k === '"Read"'),
        JSON.stringify(answers),
      );
    }
    assertEquals(await injectJson(n, OWNER, { Snapshot: null }), snapshot);
  }));

Deno.test("kv: a transaction left open by a process that dies is discarded", () =>
  withNode(async (n) => {
    const { tx } = await injectJson<{ tx: number }>(n, OWNER, { TxThenDie: null });
    await waitFor(
      "the owner to restart",
      () => n.kernel.status(OWNER).restarts === 1 && n.kernel.status(OWNER).running,
    );
    assertEquals(await injectJson(n, OWNER, { TxAfterDeath: null }), { commit: { NoTx: tx }, half: null });
  }));
