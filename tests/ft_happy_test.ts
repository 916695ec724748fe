/**
 * file-transfer:template.os between two real nodes, used as the seeds and the
 * issue say: the terminal scripts, the JSON API, both directions and many at
 * once, folders, push with its allow-list, and names from outside kept inside
 * the drive.
 */
import { assert, assertEquals } from "./assert.ts";
import { injectJson, waitFor } from "../runtime/testing.ts";
import {
  bootFt,
  download,
  exists,
  filePath,
  FT,
  printed,
  putFile,
  randomBytes,
  transfer,
  until,
} from "./ft_helpers.ts";
import type { FileInfo, TransferCounts } from "../packages/file-transfer/api/types.ts";

async function counts(node: Parameters<typeof injectJson>[0]): Promise<TransferCounts> {
  return (await injectJson<{ Counts: TransferCounts }>(node, FT, "Counts")).Counts;
}

Deno.test("the seeds' usage: list-files and download in fake.dev's terminal fetch fake2.dev's file byte for byte", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await putFile(b, "my_file.txt", new TextEncoder().encode("hello world\n"));
    await putFile(b, "big/blob.bin", bytes);

    a.terminal.command("list-files:file-transfer:template.os fake2.dev");
    await waitFor("the listing", () => printed(a, "fake2.dev shares").length > 0);
    const table = a.lines.slice(a.lines.findIndex((l) => l.includes("fake2.dev shares"))).join("\n");
    assert(/shares 2 files \(3\.00 MiB\)/.test(table), table);
    assert(/my_file\.txt\s+12 B/.test(table), table);
    assert(/big\/blob\.bin\s+3\.00 MiB/.test(table), table);
    assert(/big\/\s+3\.00 MiB/.test(table), table);

    a.terminal.command("download:file-transfer:template.os my_file.txt fake2.dev");
    await waitFor("the download", () => printed(a, "my_file.txt from fake2.dev: done").length > 0, 20_000);
    assert(printed(a, "SHA-256 verified").length > 0);
    assertEquals(await Deno.readTextFile(filePath(a, "my_file.txt")), "hello world\n");

    // The JSON API as the template has it.
    const list = await injectJson<{ ListFiles: FileInfo[] }>(a, FT, "ListFiles");
    assertEquals(list.ListFiles.map((f) => f.name), ["my_file.txt"]);
    const id = await download(a, "big/blob.bin", "fake2.dev");
    const t = await until(a, id, ["done", "failed"]);
    assertEquals(t.status, "done", t.error ?? "");
    assertEquals(await Deno.readFile(filePath(a, "big/blob.bin")), bytes);
    assert(t.sha256 && /^[0-9a-f]{64}$/.test(t.sha256));
    // Nothing is left of the partial file.
    assertEquals([...Deno.readDirSync(`${a.opts.home}/vfs/file-transfer:template.os/partial`)].length, 0);
  } finally {
    await net.close();
  }
});

Deno.test("downloads run in both directions and several at once", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    const files: [typeof a, typeof b, string, Uint8Array][] = [];
    for (let i = 0; i < 4; i++) {
      const toA = randomBytes(1024 * 1024 + i * 4099), toB = randomBytes(700_000 + i);
      await putFile(b, `b${i}.bin`, toA);
      await putFile(a, `a${i}.bin`, toB);
      files.push([a, b, `b${i}.bin`, toA], [b, a, `a${i}.bin`, toB]);
    }
    const before = await counts(a);
    const ids = await Promise.all(files.map(([to, from, name]) => download(to, name, from.name)));
    // A tool that started downloads learns when they have all ended from Counts, without the list.
    await waitFor("fake.dev's four downloads to be counted done", async () => {
      const now = await counts(a);
      assertEquals(now.download.failed + now.download.cancelled, before.download.failed + before.download.cancelled);
      return now.download.done - before.download.done === 4;
    }, 60_000);
    const mine = ids.filter((_, i) => files[i][0] === a);
    const status = await injectJson<{ Status: Record<string, string | null> }>(a, FT, {
      Status: { ids: [...mine, "no-such-id"] },
    });
    assertEquals(status.Status, { ...Object.fromEntries(mine.map((id) => [id, "done"])), "no-such-id": null });
    const bad = await injectJson<{ Err?: string }>(a, FT, { Status: { ids: "all" } });
    assert(bad.Err?.includes("at most"), JSON.stringify(bad));
    for (const [i, [to, , name, bytes]] of files.entries()) {
      const t = await until(to, ids[i], ["done", "failed"]);
      assertEquals(t.status, "done", `${name}: ${t.error}`);
      assertEquals(await Deno.readFile(filePath(to, name)), bytes, name);
    }
    const after = await counts(a);
    assertEquals([after.download.active, after.download.pending], [0, 0]);
    // What fake.dev sent fake2.dev is counted as its senders report the end.
    await waitFor("fake.dev's four uploads to be counted done", async () => (await counts(a)).upload.done === 4);
    // Each side also kept a record of what it sent.
    const sent = await injectJson<{ Transfers: { direction: string; status: string }[] }>(b, FT, "Transfers");
    assert(sent.Transfers.some((t) => t.direction === "upload" && t.status === "done"));
  } finally {
    await net.close();
  }
});

Deno.test("a folder downloads everything under it, sub-folders included", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    const one = randomBytes(5000), two = randomBytes(300_000);
    await putFile(b, "docs/one.txt", one);
    await putFile(b, "docs/deep/two.bin", two);
    await putFile(b, "elsewhere.txt", randomBytes(10));
    const listed = await injectJson<{ ListFiles: FileInfo[] }>(a, FT, { ListFiles: { path: "docs" } }, 10);
    void listed;
    const id = await download(a, "docs", "fake2.dev");
    assertEquals((await until(a, id, ["done", "failed"])).status, "done");
    await waitFor(
      "both files",
      async () => await exists(filePath(a, "docs/deep/two.bin")) && await exists(filePath(a, "docs/one.txt")),
      20_000,
    );
    await waitFor(
      "the last one to finish",
      async () => (await Deno.stat(filePath(a, "docs/deep/two.bin"))).size === two.length,
    );
    assertEquals(await Deno.readFile(filePath(a, "docs/one.txt")), one);
    assertEquals(await Deno.readFile(filePath(a, "docs/deep/two.bin")), two);
    assert(!await exists(filePath(a, "elsewhere.txt")));
  } finally {
    await net.close();
  }
});

Deno.test("remote names stay inside the drive, and a file here is not overwritten unless asked", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    for (const bad of ["../../identity.json", "a/../../x", "bad\u0000name", "back\\slash"]) {
      const r = await injectJson<{ Download?: { Err?: string } }>(a, FT, {
        Download: { name: bad, target: "fake2.dev", is_requestor: true },
      });
      // Refused in the shape of the worker API's answer: {"Download": {"Err": ...}}.
      const err = r.Download?.Err;
      assert(err && /file name/.test(err), `${JSON.stringify(bad)}: ${JSON.stringify(r)}`);
    }
    await putFile(b, "same.txt", new TextEncoder().encode("theirs"));
    await putFile(a, "same.txt", new TextEncoder().encode("mine"));
    // Refused at once, before a transfer is queued: a node nobody registered, this node itself, a file here.
    const nobody = await download(a, "x.bin", "nosuch.dev").then(() => "", (e) => String(e));
    assert(/no node named nosuch\.dev is known to this node/.test(nobody), nobody);
    const self = await download(a, "x.bin", "fake.dev").then(() => "", (e) => String(e));
    assert(/which is this node/.test(self), self);
    const refused = await download(a, "same.txt", "fake2.dev").then(() => "", (e) => String(e));
    assert(/already exists here: download with --overwrite/.test(refused), refused);
    assertEquals(await Deno.readTextFile(filePath(a, "same.txt")), "mine");
    const again = await download(a, "same.txt", "fake2.dev", { overwrite: true });
    assertEquals((await until(a, again, ["done", "failed"])).status, "done");
    assertEquals(await Deno.readTextFile(filePath(a, "same.txt")), "theirs");
    // A name the peer does not have: refused at once, before any transfer is made for it.
    const missing = await download(a, "no-such-file", "fake2.dev").then(() => "", (e) => String(e));
    assert(/fake2\.dev has no file named no-such-file/.test(missing), missing);
  } finally {
    await net.close();
  }
});

Deno.test("push: refused by default, accepted once the receiver allows the sender", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    const bytes = randomBytes(200_000);
    await putFile(a, "gift.bin", bytes);
    const no = await injectJson<{ Push: { Ok?: null; Err?: string } }>(a, FT, {
      Push: { name: "gift.bin", target: "fake2.dev" },
    }, 30);
    assert(no.Push.Err && /fake\.dev may not push files to fake2\.dev/.test(no.Push.Err), JSON.stringify(no));
    assert(!await exists(filePath(b, "gift.bin")));

    b.terminal.command("allow:file-transfer:template.os push fake.dev");
    await waitFor("the allow-list", () => printed(b, "push     fake.dev").length > 0);
    a.terminal.command("push:file-transfer:template.os gift.bin fake2.dev");
    await waitFor("the push", () => printed(b, "gift.bin from fake.dev: done").length > 0, 20_000);
    assertEquals(await Deno.readFile(filePath(b, "gift.bin")), bytes);
  } finally {
    await net.close();
  }
});

Deno.test("the transfers script shows each transfer with its state", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    await putFile(b, "x.bin", randomBytes(100_000));
    const id = await download(a, "x.bin", "fake2.dev");
    await until(a, id, ["done"]);
    a.terminal.command("transfers:file-transfer:template.os");
    await waitFor("the table", () => printed(a, `${id}  done`).length > 0);
    const line = printed(a, `${id}  done`)[0];
    assert(/↓ x\.bin from fake2\.dev 100% 97\.7 KiB\/97\.7 KiB/.test(line), line);
    assertEquals((await transfer(a, id)).bytes, 100_000);
  } finally {
    await net.close();
  }
});

Deno.test("progress is one status line with percent, bytes, speed and ETA, not a scroll of lines", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    await putFile(b, "big.bin", randomBytes(160 * 1024 * 1024));
    const started = Date.now();
    // Small chunks keep it moving for seconds (at full speed it can be over before the first status line).
    const id = await download(a, "big.bin", "fake2.dev", { chunk: 64 * 1024 });
    // A minute when the machine is quiet, several at a load average of 16: the bound only catches a transfer that stopped.
    await until(a, id, ["done"], 10 * 60_000);
    const seconds = (Date.now() - started) / 1000;
    // Without a screen (here, lines collected by the test) the status line is logged at most every 5 s.
    const status = a.lines.filter((l) => l.includes("↓ big.bin from fake2.dev"));
    assert(status.length >= 1, a.lines.join("\n"));
    assert(status.length <= Math.ceil(seconds / 5) + 1, `${status.length} status lines in ${seconds} s`);
    // The first line may come before the offer's size (at a load average of 100 it said only "active").
    const line =
      /↓ big\.bin from fake2\.dev \d+% [\d.]+ (B|KiB|MiB)\/160 MiB [\d.]+ (B|KiB|MiB)\/s ETA ([\d.]+s|\d+m\d\ds|--)/;
    assert(status.some((l) => line.test(l)), status.join("\n"));
  } finally {
    await net.close();
  }
});

Deno.test("a download cancelled on the way leaves neither a final file nor a partial one", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    await putFile(b, "big.bin", randomBytes(96 * 1024 * 1024));
    const id = await download(a, "big.bin", "fake2.dev");
    await waitFor("bytes to flow", async () => (await transfer(a, id)).bytes > 0, 30_000);
    a.terminal.command(`transfers:file-transfer:template.os cancel ${id}`);
    await waitFor("the cancel", () => printed(a, `cancelled ${id}`).length > 0);
    assertEquals((await transfer(a, id)).status, "cancelled");
    const partial = `${a.opts.home}/vfs/file-transfer:template.os/partial`;
    await waitFor("the partial file to go", () => [...Deno.readDirSync(partial)].length === 0, 15_000);
    assert(!await exists(filePath(a, "big.bin")));
  } finally {
    await net.close();
  }
});
