/**
 * The seeds' usage end to end, as a user runs it: two nodes in their own OS
 * processes around a fake chain, `start-package` on each, a file put into
 * fake2.dev's drive by hand, and the scripts typed into fake.dev's terminal.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli, freePort, NodeProcess } from "./cli_helpers.ts";
import { FT_PKG } from "./ft_helpers.ts";

Deno.test("list-files and download typed into fake.dev's terminal fetch my_file.txt from fake2.dev", async () => {
  const chain = freePort(), p1 = freePort(), p2 = freePort();
  const h1 = await Deno.makeTempDir({ prefix: "hyperdeno-ftcli-" }),
    h2 = await Deno.makeTempDir({ prefix: "hyperdeno-ftcli-" });
  const one = new NodeProcess(["-p", String(p1), "-o", h1, "-f", "fake.dev", "-c", String(chain)]);
  await one.waitFor(/node ready/);
  const two = new NodeProcess(["-p", String(p2), "-o", h2, "-f", "fake2.dev", "-c", String(chain)]);
  try {
    await two.waitFor(/node ready/);
    assertEquals((await cli("build", FT_PKG)).code, 0);
    for (const p of [p1, p2]) assertEquals((await cli("start-package", FT_PKG, "-p", String(p))).code, 0);
    const drive = `${h2}/vfs/file-transfer:template.os/files`;
    await Deno.mkdir(drive, { recursive: true });
    await Deno.writeTextFile(`${drive}/my_file.txt`, "hello world\n");

    // fake.dev learns of fake2.dev through the chain; list until it answers.
    for (let i = 0; i < 40 && !/fake2\.dev shares/.test(one.output); i++) {
      await one.type("list-files:file-transfer:template.os fake2.dev");
      await new Promise((r) => setTimeout(r, 500));
    }
    await one.waitFor(/fake2\.dev shares 1 file \(12 B\):\n\s+NAME\s+SIZE\n\s+my_file\.txt\s+12 B/);
    await one.type("download:file-transfer:template.os my_file.txt fake2.dev");
    await one.waitFor(/my_file\.txt from fake2\.dev: done, 12 B in .*SHA-256 verified/);
    assertEquals(await Deno.readTextFile(`${h1}/vfs/file-transfer:template.os/files/my_file.txt`), "hello world\n");
    await one.type(`m -a 60 our@file-transfer:file-transfer:template.os '"ListFiles"'`);
    await one.waitFor(/\{"ListFiles":\[\{"name":"my_file\.txt","size":12\}\]\}/);
    assert(!/Uncaught|panicked/.test(one.output + two.output), one.output + two.output);
  } finally {
    two.kill("SIGINT");
    one.kill("SIGINT");
    await two.exited();
    await one.exited();
    await Deno.remove(h1, { recursive: true }).catch(() => {});
    await Deno.remove(h2, { recursive: true }).catch(() => {});
  }
});
