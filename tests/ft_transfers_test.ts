/**
 * The main process's table of transfers (packages/file-transfer/file-transfer/transfers.ts)
 * on its own: what Counts and Status answer once the list has dropped old finished transfers.
 */
import { assert, assertEquals } from "./assert.ts";
import { Transfers } from "../packages/file-transfer/file-transfer/transfers.ts";
import type { TransferView } from "../packages/file-transfer/api/types.ts";

function view(id: string, name: string): TransferView {
  return {
    id,
    direction: "download",
    peer: "fake2.dev",
    name,
    status: "pending",
    bytes: 0,
    size: null,
    sha256: null,
    speed: 0,
    error: null,
    started: Date.now(),
    updated: Date.now(),
    overwrite: false,
    attempts: 0,
  };
}

Deno.test("Counts and Status still answer for transfers the list no longer keeps", () => {
  const t = new Transfers(() => {});
  const n = 500;
  for (let i = 0; i < n; i++) t.add(view(`id${i}`, `f${i}.bin`));
  assertEquals(t.counts().download.pending, n);
  assertEquals(t.openDownloads(), n);
  assertEquals(t.openDownload("fake2.dev", "f7.bin")?.id, "id7");
  for (let i = 0; i < n; i++) {
    t.update(`id${i}`, { status: "active" });
    t.update(`id${i}`, { status: i === 3 ? "failed" : "done" });
  }
  const c = t.counts().download;
  assertEquals([c.pending, c.active, c.done, c.failed], [0, 0, n - 1, 1]);
  assertEquals(t.openDownloads(), 0);
  assert(t.list().length < n, "the list keeps only the newest finished");
  assertEquals(t.status(["id0", "id3", `id${n - 1}`, "nope"]), {
    id0: "done",
    id3: "failed",
    [`id${n - 1}`]: "done",
    nope: null,
  });
});

Deno.test("a resumed download leaves its finished state and is counted where it is now", () => {
  const t = new Transfers(() => {});
  t.add(view("x", "x.bin"));
  t.update("x", { status: "cancelled" });
  assertEquals(t.openDownload("fake2.dev", "x.bin"), undefined);
  t.update("x", { status: "pending" });
  assertEquals([...t.pending()].map((v) => v.id), ["x"]);
  assertEquals(t.openDownload("fake2.dev", "x.bin")?.id, "x");
  const c = t.counts().download;
  // Cancelled counts how many times a download got there; pending is what waits now.
  assertEquals([c.cancelled, c.pending], [1, 1]);
});

Deno.test("the finished counts come back with the saved downloads after a restart", () => {
  const t = new Transfers(() => {});
  t.add(view("a", "a.bin"));
  t.update("a", { status: "done" });
  const again = new Transfers(() => {});
  again.load(t.saved(), t.counts());
  assertEquals(again.counts().download.done, 1);
  assertEquals(again.status(["a"]), { a: "done" });
  // Counts from outside the process's own state are taken only as counts.
  const hostile = new Transfers(() => {});
  hostile.load([], { download: { done: -5, failed: 1.5 }, upload: null } as never);
  assertEquals([hostile.counts().download.done, hostile.counts().download.failed], [0, 0]);
});
