/**
 * Kino Files in the terminal as a newcomer meets it (issue 22, point 6): a
 * bad flag says what is wrong, an unknown node reads the same in list-files
 * and download, a name the peer does not have is refused before any transfer
 * exists, resume names what it resumes (a cancelled download too), a folder's
 * row shows what it holds, a transfer that fails for good leaves no partial
 * file, and a download's duration counts the time it moved, not the time its
 * peer was away.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { waitFor } from "../runtime/testing.ts";
import {
  bootFt,
  download,
  filePath,
  printed,
  putFile,
  randomBytes,
  restartNode,
  stopNode,
  transfer,
  transfers,
  until,
} from "./ft_helpers.ts";

const MiB = 1024 * 1024;
const PKG = "file-transfer:template.os";

/** Types `line` at the node's terminal and returns the first line it printed that matches `answer`. */
async function typed(node: Parameters<typeof printed>[0], line: string, answer: RegExp): Promise<string> {
  const from = node.lines.length;
  node.terminal.command(line);
  let found = "";
  await waitFor(`an answer to ${line}`, () => {
    found = node.lines.slice(from).find((l) => answer.test(l)) ?? "";
    return found !== "";
  }, 120_000);
  return found;
}

Deno.test("the scripts say what is wrong: a bad flag, an unknown node (one sentence), a file the peer does not have", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    await putFile(b, "here.txt", new TextEncoder().encode("hi"));

    const flag = await typed(a, `download:${PKG} here.txt fake2.dev --foo`, /unknown flag/);
    assertEquals(
      flag,
      `unknown flag --foo (the one flag is --overwrite); usage: download:${PKG} NAME NODE [--overwrite]`,
    );
    const listFlag = await typed(a, `list-files:${PKG} --all`, /unknown flag/);
    assertMatch(listFlag, /^unknown flag --all \(it takes no flags\); usage: list-files:/);
    const count = await typed(a, `push:${PKG} only-one`, /^push takes/);
    assertMatch(count, /^push takes a NAME and a NODE, not 1 word\(s\); usage: push:/);

    // An unknown node: the same sentence from both scripts.
    const listed = await typed(a, `list-files:${PKG} nobody.dev`, /^list-files: /);
    const fetched = await typed(a, `download:${PKG} x.bin nobody.dev`, /^download: /);
    assertEquals(listed.replace(/^list-files: /, ""), fetched.replace(/^download: /, ""));
    assertMatch(listed, /no node named nobody\.dev is known to this node/);

    // A name fake2.dev does not have: refused at once, and no transfer is made for it.
    const missing = await typed(a, `download:${PKG} gone.bin fake2.dev`, /^download: /);
    assertEquals(missing, "download: fake2.dev has no file named gone.bin");
    assertEquals((await transfers(a)).filter((t) => t.name === "gone.bin").length, 0);
    // One it has still downloads.
    await typed(a, `download:${PKG} here.txt fake2.dev`, /^downloading here\.txt/);
    await waitFor("here.txt", () => printed(a, "here.txt from fake2.dev: done").length > 0, 30_000);
  } finally {
    await net.close();
  }
});

Deno.test("resume names what it resumes, a cancelled download included; a folder's row shows what it holds", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    const big = randomBytes(64 * MiB);
    await putFile(b, "big.bin", big);
    await putFile(b, "album/one.mp3", randomBytes(300_000));
    await putFile(b, "album/two.mp3", randomBytes(700_001));

    assertEquals(
      await typed(a, `transfers:${PKG} resume`, /resume/),
      "nothing to resume: no download is interrupted or failed",
    );
    const id = await download(a, "big.bin", "fake2.dev", { chunk: 256 * 1024 });
    await typed(a, `transfers:${PKG} cancel ${id}`, /cancelled/);
    assertEquals((await transfer(a, id)).status, "cancelled");
    const resumed = await typed(a, `transfers:${PKG} resume ${id}`, /resum/);
    assertEquals(resumed, `resuming 1 download: big.bin from fake2.dev (${id})`);
    const t = await until(a, id, ["done", "failed"], 120_000);
    assertEquals(t.status, "done", t.error ?? "");
    assertEquals(await Deno.readFile(filePath(a, "big.bin")), big);
    // Done now: resuming it again says why not, naming it.
    assertEquals(
      await typed(a, `transfers:${PKG} resume ${id}`, /transfers: /),
      `transfers: big.bin from fake2.dev (${id}) is done: nothing to resume`,
    );
    assertMatch(await typed(a, `transfers:${PKG} resume nosuch`, /transfers: /), /^transfers: no transfer nosuch/);

    // A folder: its row is the sum of its files, not 0 B/0 B.
    const folder = await download(a, "album", "fake2.dev");
    await until(a, folder, ["done"]);
    const table = await typed(a, `transfers:${PKG}`, new RegExp(`^${folder} `, "m"));
    const row = table.split("\n").find((l) => l.startsWith(folder)) ?? "";
    assertMatch(row, /↓ album\/ from fake2\.dev: a folder of 2 files, 977 KiB$/);
    assert(!/0 B\/0 B/.test(table), table);
  } finally {
    await net.close();
  }
});

Deno.test("after the provider was away: a file it lost fails and leaves no partial; the other's time counts only moving", async () => {
  const net = await bootFt();
  try {
    const a = net.nodes["fake.dev"];
    // What is left once both are under way must outlast the stop on a busy machine (see ft_faults_test.ts's AWAY).
    const [keep, lose] = [randomBytes(96 * MiB), randomBytes(96 * MiB)];
    await putFile(net.nodes["fake2.dev"], "keep.bin", keep);
    await putFile(net.nodes["fake2.dev"], "lose.bin", lose);
    const started = Date.now();
    const kid = await download(a, "keep.bin", "fake2.dev", { chunk: 256 * 1024 });
    const lid = await download(a, "lose.bin", "fake2.dev", { chunk: 256 * 1024 });
    await waitFor("both under way", async () => {
      const ts = await Promise.all([transfer(a, kid), transfer(a, lid)]);
      if (ts.some((t) => t.status === "done")) throw new Error("finished before the provider went away");
      return ts.every((t) => t.bytes > 0);
    }, 60_000);
    const away = Date.now();
    const home = await stopNode(net, "fake2.dev");
    await until(a, kid, ["interrupted"], 90_000);
    await Deno.remove(`${home}/vfs/${PKG}/files/lose.bin`);
    await new Promise((r) => setTimeout(r, 3_000)); // away a while longer
    await restartNode(net, "fake2.dev", home);
    const downtime = Date.now() - away;

    const lost = await until(a, lid, ["failed", "done"], 90_000);
    assertEquals(lost.status, "failed");
    assertEquals(lost.error, "fake2.dev has no file named lose.bin");
    assertEquals(lost.resumable ?? false, false);
    const partial = `${a.opts.home}/vfs/${PKG}/partial/${lid}.part`;
    await waitFor("the lost file's partial to go", () => Deno.stat(partial).then(() => false, () => true), 15_000);

    const t = await until(a, kid, ["done", "failed"], 120_000);
    assertEquals(t.status, "done", t.error ?? "");
    assertEquals(await Deno.readFile(filePath(a, "keep.bin")), keep);
    const total = Date.now() - started;
    assert(t.moving_ms !== undefined && t.moving_ms > 0, `moving_ms ${t.moving_ms}`);
    // The time moving leaves out the time the provider was away (it was away `downtime` of the `total`).
    assert(t.moving_ms <= total - downtime, `moved ${t.moving_ms} ms of ${total} ms, ${downtime} ms away`);
    assert(printed(a, "keep.bin from fake2.dev: done, 96.0 MiB in").length > 0, a.lines.join("\n"));
  } finally {
    await net.close();
  }
});
