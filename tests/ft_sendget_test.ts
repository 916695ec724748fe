/**
 * Files between nodes from the shell, as scp: `hyperdeno send`, `get` and
 * `ls` against two nodes running as OS processes around their own chain, the
 * file coming from and going to arbitrary paths of this machine; the failure
 * cases' exit codes and one-line reasons; a 160 MiB file through both
 * commands with the nodes' peak memory watched; the owner endpoint refusing
 * what a browser would send; and the terminal's short script names.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, freePort, NodeProcess } from "./cli_helpers.ts";
import { FT_PKG, randomBytes, sha256 } from "./ft_helpers.ts";
import { startChain } from "../runtime/testing.ts";
import { postToNode } from "../cli/node_client.ts";
import { KinoFiles } from "../cli/kino_files.ts";

const MiB = 1024 * 1024;

/** The most memory the process `pid` has held at once (VmHWM), in bytes. (Deno reads /proc only with -A: cat it.) */
async function peakRss(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" }).output();
  const m = new TextDecoder().decode(out.stdout).match(/VmHWM:\s+(\d+) kB/);
  if (!m) throw new Error(`no VmHWM for ${pid}`);
  return Number(m[1]) * 1024;
}

/** The status of a raw GET with these headers (fetch would not send a Host of our choosing). */
async function rawStatus(port: number, path: string, headers: Record<string, string>): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = Object.entries({ host: `127.0.0.1:${port}`, connection: "close", ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`).join("");
  await conn.write(new TextEncoder().encode(`GET ${path} HTTP/1.1\r\n${head}\r\n`));
  const buf = new Uint8Array(256);
  const n = await conn.read(buf);
  conn.close();
  return Number(new TextDecoder().decode(buf.subarray(0, n ?? 0)).split(" ")[1]);
}

async function sha256File(path: string): Promise<string> {
  return await sha256(await Deno.readFile(path));
}

/**
 * Types `line` until its answer, `re`, shows once more than before. Typed again when no answer comes: on a machine
 * loaded enough, the process host watchdog can end a package's host mid-script (it restarts at once).
 */
async function typeUntil(p: NodeProcess, line: string, re: RegExp) {
  const count = () => (p.output.match(new RegExp(re.source, "g")) ?? []).length;
  const had = count();
  for (let i = 0; i < 6; i++) {
    await p.type(line);
    for (const until = Date.now() + 10_000; Date.now() < until;) {
      if (count() > had) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`"${line}" never answered ${re}:\n${p.output}`);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("send, get and ls from the shell move files between two nodes, as scp", async (t) => {
  const chain = await startChain();
  const p1 = freePort(), p2 = freePort();
  const h1 = await Deno.makeTempDir({ prefix: "hyperdeno-sendget-" });
  const h2 = await Deno.makeTempDir({ prefix: "hyperdeno-sendget-" });
  const work = await Deno.makeTempDir({ prefix: "hyperdeno-sendget-work-" });
  const drive1 = `${h1}/vfs/file-transfer:template.os/files`;
  const drive2 = `${h2}/vfs/file-transfer:template.os/files`;
  const one = new NodeProcess(["-p", String(p1), "-o", h1, "-f", "fake.dev", "-c", String(chain.port)]);
  const two = new NodeProcess(["-p", String(p2), "-o", h2, "-f", "fake2.dev", "-c", String(chain.port)]);
  const P1 = ["-p", String(p1)], P2 = ["-p", String(p2)];
  try {
    await one.waitFor(/node ready/, 60_000);
    await two.waitFor(/node ready/, 60_000);

    await t.step("before Kino Files is installed, the commands say how to install it", async () => {
      const r = await cli("ls", "fake2.dev", ...P1);
      assertEquals(r.code, 1, r.err);
      assertMatch(r.err, /^ls: Kino Files \(file-transfer:file-transfer:template\.os\) is not running .*hyperdeno bs/);
      const none = await cli("ls", "fake2.dev", "-p", String(freePort()));
      assertEquals(none.code, 2, none.err);
      assertMatch(none.err, /no node answers on port \d+: start one with `hyperdeno boot-fake-node/);
    });

    assertEquals((await cli("build", FT_PKG)).code, 0);
    for (const p of [p1, p2]) assertEquals((await cli("start-package", FT_PKG, "-p", String(p))).code, 0);
    // fake2.dev takes pushes from fake.dev: typed with the script's short name.
    await typeUntil(two, "allow push fake.dev", /push\s+fake\.dev/);
    // fake.dev learns of fake2.dev through the chain (the bound only catches a hang, on a machine however busy).
    for (const until = Date.now() + 180_000; Date.now() < until;) {
      if ((await cli("ls", "fake2.dev", ...P1)).code === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }

    await t.step("a 160 MiB file goes through send and get without the nodes holding it", async () => {
      const size = 160 * MiB;
      const src = `${work}/big source.bin`;
      await Deno.writeFile(src, randomBytes(size));
      const want = await sha256File(src);
      const peaks = [await peakRss(one.pid), await peakRss(two.pid)];
      const sent = await cli("send", src, "fake2.dev", "--name", "big.bin", ...P1);
      assertEquals(sent.code, 0, sent.err + sent.out);
      assertMatch(sent.out, /^sent big\.bin to fake2\.dev: 160 MiB in .*SHA-256 verified by fake2\.dev/);
      assertEquals(await sha256File(`${drive2}/big.bin`), want);
      assert(!exists(`${drive1}/big.bin`), "the staged copy left fake.dev's files drive");
      const got = await cli("get", "big.bin", "fake2.dev", "-o", `${work}/back.bin`, ...P1);
      assertEquals(got.code, 0, got.err + got.out);
      assertMatch(got.out, /^got big\.bin from fake2\.dev: 160 MiB in .*SHA-256 verified → .*back\.bin/);
      assertEquals(await sha256File(`${work}/back.bin`), want);
      assert(!exists(`${drive1}/big.bin`), "the node's copy left fake.dev's files drive");
      const grew = [await peakRss(one.pid) - peaks[0], await peakRss(two.pid) - peaks[1]];
      // A node that held the file whole would have grown by its size at least.
      for (const g of grew) assert(g < size, `peak RSS grew by ${Math.round(g / MiB)} MiB for a 160 MiB file`);
      console.log(
        `peak RSS growth: fake.dev ${Math.round(grew[0] / MiB)} MiB, fake2.dev ${Math.round(grew[1] / MiB)} MiB`,
      );
      await Deno.remove(src);
      await Deno.remove(`${work}/back.bin`);
      await Deno.remove(`${drive2}/big.bin`);
    });

    await t.step("send from any folder, ls, get to a chosen path", async () => {
      const bytes = randomBytes(3 * MiB + 17);
      const src = `${work}/a folder/notes.txt`;
      await Deno.mkdir(`${work}/a folder`);
      await Deno.writeFile(src, bytes);
      const sent = await cli("send", src, "fake2.dev", ...P1);
      assertEquals(sent.code, 0, sent.err);
      assertEquals(await Deno.readFile(`${drive2}/notes.txt`), bytes);

      const ls = await cli("ls", "fake2.dev", ...P1);
      assertEquals(ls.code, 0, ls.err);
      assertMatch(ls.out, /fake2\.dev shares 1 file \(3\.00 MiB\):\n\s+NAME\s+SIZE\n\s+notes\.txt\s+3\.00 MiB/);

      // Into a folder: the name as fake2.dev gives it.
      const got = await cli("get", "notes.txt", "fake2.dev", "-o", work, ...P1);
      assertEquals(got.code, 0, got.err);
      assertEquals(await Deno.readFile(`${work}/notes.txt`), bytes);
      // get read the node's copy from its drive (the node says where its drives are, to a local caller); where it
      // cannot (another user's node), the app streams the file: both give these bytes.
      const root = await postToNode(p2, "/rpc:distro:sys/vfs-root", {});
      assertEquals(root, { status: 200, json: { root: `${h2}/vfs` } });
      const streamed = await new KinoFiles(p2).app.stream(`/api/file?name=notes.txt`);
      assert(streamed instanceof ReadableStream, JSON.stringify(streamed));
      assertEquals(new Uint8Array(await new Response(streamed).arrayBuffer()), bytes);
      // Nobody else is told where the drives are: a page elsewhere, a form it posts, a cross-site fetch, a name
      // rebound to this address.
      const vfsRoot = async (headers: Record<string, string>) => {
        const r = await fetch(`http://127.0.0.1:${p2}/rpc:distro:sys/vfs-root`, {
          method: "POST",
          headers,
          body: "{}",
        });
        await r.body?.cancel();
        return r.status;
      };
      const json = { "content-type": "application/json" };
      assertEquals(await vfsRoot({ ...json, origin: "http://evil.example" }), 403);
      assertEquals(await vfsRoot({ "content-type": "text/plain" }), 415);
      assertEquals(await vfsRoot({ ...json, "sec-fetch-site": "cross-site" }), 403);
      assertEquals(await rawStatus(p2, "/rpc:distro:sys/vfs-root", { host: `rebound.example:${p2}` }), 421);
      // Not over a file without --force; with it, yes.
      const again = await cli("get", "notes.txt", "fake2.dev", "-o", `${work}/notes.txt`, ...P1);
      assertEquals(again.code, 2, again.err);
      assertMatch(again.err, /notes\.txt exists: pass --force to replace it/);
      // --keep: the node keeps its copy, so get copies the file out (from the disk) rather than moving it.
      const kept = await cli("get", "notes.txt", "fake2.dev", "-o", `${work}/kept.txt`, "--keep", ...P1);
      assertEquals(kept.code, 0, kept.err);
      assertEquals([await Deno.readFile(`${work}/kept.txt`), await Deno.readFile(`${drive1}/notes.txt`)], [
        bytes,
        bytes,
      ]);
      await Deno.remove(`${drive1}/notes.txt`);
      await Deno.writeTextFile(`${work}/notes.txt`, "old");
      const forced = await cli("get", "notes.txt", "fake2.dev", "-o", `${work}/notes.txt`, "--force", ...P1);
      assertEquals(forced.code, 0, forced.err);
      assertEquals(await Deno.readFile(`${work}/notes.txt`), bytes);
      assertEquals([...Deno.readDirSync(drive1)].map((e) => e.name), [], "fake.dev's files drive is as it was");
    });

    await t.step("failures exit non-zero with one line naming what to do", async () => {
      const line = (r: { err: string }) => {
        const lines = r.err.trim().split("\n");
        return lines[lines.length - 1];
      };
      // fake.dev has not allowed fake2.dev to push.
      await Deno.writeTextFile(`${work}/reply.txt`, "hi");
      const push = await cli("send", `${work}/reply.txt`, "fake.dev", ...P2);
      assertEquals(push.code, 1, push.err);
      assertMatch(
        line(push),
        /^send: fake2\.dev may not push files to fake\.dev: .*\(on fake\.dev: allow:file-transfer:template\.os push fake2\.dev\)$/,
      );
      assert(!exists(`${drive2}/reply.txt`), "a refused send leaves no copy behind");
      // The same name again where it exists.
      const twice = await cli("send", `${work}/a folder/notes.txt`, "fake2.dev", ...P1);
      assertEquals(twice.code, 1, twice.err);
      assertMatch(line(twice), /^send: notes\.txt already exists on fake2\.dev: send it under another name/);
      const missing = await cli("get", "nope.bin", "fake2.dev", "-o", work, ...P1);
      assertEquals(missing.code, 1, missing.err);
      assertMatch(line(missing), /^get: fake2\.dev has no file named nope\.bin$/);
      assert(!exists(`${work}/nope.bin`));
      const unknown = await cli("get", "notes.txt", "nobody.dev", "-o", `${work}/u.txt`, ...P1);
      assertEquals(unknown.code, 1, unknown.err);
      assertMatch(line(unknown), /^get: no node named nobody\.dev is known to this node/);
      const lsUnknown = await cli("ls", "nobody.dev", ...P1);
      assertEquals(lsUnknown.code, 1, lsUnknown.err);
      const sendUnknown = await cli("send", `${work}/reply.txt`, "nobody.dev", ...P1);
      assertEquals(sendUnknown.code, 1, sendUnknown.err);
      assertMatch(line(sendUnknown), /^send: no node named nobody\.dev is known to this node/);
      const noFile = await cli("send", `${work}/not-there.txt`, "fake2.dev", ...P1);
      assertEquals(noFile.code, 2, noFile.err);
      assertMatch(noFile.err, /cannot read .*not-there\.txt/);
      // fake2.dev stops letting anyone download.
      await typeUntil(two, "allow --remove download *", /download\s+\(nobody\)/);
      const refused = await cli("get", "notes.txt", "fake2.dev", "-o", `${work}/x.txt`, ...P1);
      assertEquals(refused.code, 1, refused.err);
      assertMatch(
        line(refused),
        /^get: fake\.dev may not download from fake2\.dev: .*\(on fake2\.dev: allow:file-transfer:template\.os download fake\.dev\)$/,
      );
      const lsRefused = await cli("ls", "fake2.dev", "-p", String(p1));
      assertEquals(lsRefused.code, 0, "listing is still allowed");
      await typeUntil(two, "allow download *", /download\s+\*/);
      assert(!exists(`${work}/x.txt`));
    });

    await t.step("the terminal runs a script by its short name, and says which when two packages have it", async () => {
      await typeUntil(one, "list-files fake2.dev", /fake2\.dev shares 1 file/);
      // A second package with the same scripts: the built file-transfer under another name.
      const copy = `${work}/ft-copy`;
      await Deno.mkdir(copy);
      assert((await new Deno.Command("cp", { args: ["-r", `${FT_PKG}/pkg`, `${copy}/pkg`] }).output()).success);
      for (const e of Deno.readDirSync(FT_PKG)) {
        if (e.isDirectory && e.name !== "pkg") await Deno.mkdir(`${copy}/${e.name}`);
      }
      const meta = JSON.parse(await Deno.readTextFile(`${FT_PKG}/metadata.json`));
      meta.properties.package_name = "ft-copy";
      await Deno.writeTextFile(`${copy}/metadata.json`, JSON.stringify(meta));
      const installed = await cli("start-package", copy, ...P1);
      assertEquals(installed.code, 0, installed.err);
      await typeUntil(
        one,
        "list-files fake2.dev",
        /'list-files' is a script of 2 packages: type one in full \(list-files:file-transfer:template\.os, list-files:ft-copy:template\.os\), or make one the default: alias list-files list-files:file-transfer:template\.os/,
      );
      await typeUntil(one, "alias list-files list-files:file-transfer:template.os", /alias list-files set/);
      await typeUntil(one, "list-files fake2.dev", /fake2\.dev shares 1 file/);
    });

    await t.step("the owner endpoint refuses what a browser or another host would send", async () => {
      const path = "/rpc:distro:sys/app/file-transfer:file-transfer:template.os/api/transfers";
      const status = (headers: Record<string, string>) => rawStatus(p1, path, headers);
      assertEquals(await status({ "x-hyperdeno-cli": "1" }), 200);
      assertEquals(await status({}), 403, "a page's plain GET (no header of ours)");
      assertEquals(await status({ "x-hyperdeno-cli": "1", origin: "http://evil.example" }), 403);
      assertEquals(await status({ "x-hyperdeno-cli": "1", "sec-fetch-site": "cross-site" }), 403);
      // A name that is not ours is refused before any path is looked at (421 Misdirected Request).
      assertEquals(await status({ "x-hyperdeno-cli": "1", host: `rebound.example:${p1}` }), 421);
    });

    await t.step("a node that is offline: get says so and leaves nothing running", async () => {
      two.kill("SIGINT");
      await two.exited();
      let t0 = Date.now();
      const r = await cli("get", "notes.txt", "fake2.dev", "-o", `${work}/late.txt`, ...P1);
      console.log(`get from an offline node answered in ${Date.now() - t0} ms`);
      assertEquals(r.code, 1, r.err);
      assertMatch(r.err, /^get: fake2\.dev is offline or not running file-transfer:file-transfer:template\.os/m);
      assert(!exists(`${work}/late.txt`));
      t0 = Date.now();
      const ls = await cli("ls", "fake2.dev", ...P1);
      console.log(`ls of an offline node answered in ${Date.now() - t0} ms: ${ls.err.trim()}`);
      assertEquals(ls.code, 1, ls.err);
    });
    assert(!/Uncaught|panicked/.test(one.output + two.output), one.output + two.output);
  } finally {
    two.kill("SIGINT");
    one.kill("SIGINT");
    await two.exited();
    await one.exited();
    await chain.stop();
    for (const d of [h1, h2, work]) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
});
