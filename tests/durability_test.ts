/** Acknowledged writes survive `kill -9`; interrupted ones never read back as complete but wrong. */
import { assert, assertEquals } from "./assert.ts";
import { cli, freePort, NodeProcess, ownChain } from "./cli_helpers.ts";
import { bootNode, injectJson, removeHome, waitFor } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

const OWNER = "owner:store:test.os";

Deno.test("storage: a node killed with SIGKILL mid-stream keeps every acknowledged write, untorn", async () => {
  const port = freePort();
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-durable-" });
  const node = new NodeProcess(["-p", String(port), "-o", home, "--persist", ...ownChain("durable.dev")]);
  let acknowledged = 0;
  try {
    await node.waitFor(/node ready/);
    assertEquals((await cli("build", `${FIXTURES}store`)).code, 0);
    assertEquals((await cli("start-package", `${FIXTURES}store`, "-p", String(port))).code, 0);
    // Two streams at once: sequential KV sets, and whole-file rewrites with a SQLite row each.
    const path = "/store:test.os/data/big.bin";
    const base = `http://127.0.0.1:${port}/rpc:distro:sys/message`;
    const post = (body: unknown) =>
      fetch(base, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ process: OWNER, body: JSON.stringify(body), expects_response: 120 }),
      }).then((r) => r.json()).catch(() => null);
    for (let batch = 0; batch < 3; batch++) {
      const r = await post({ KvSetMany: { start: batch * 50, n: 50 } });
      if (r?.body) acknowledged = JSON.parse(r.body).done;
    }
    void post({ KvSetMany: { start: acknowledged, n: 100_000 } });
    void post({ Rewrite: { path, n: 100_000, size: 256 * 1024 } });
    // Both streams are under way once the file holds its third version (each version is a byte repeated, i % 251),
    // two rows behind it: a wait for that, not a sleep (1.5 s at a load average of 50 saw no file yet).
    const onDisk = `${home}/vfs/store:test.os/data/big.bin`;
    await waitFor("the rewrites to be under way", async () => {
      const bytes = await Deno.readFile(onDisk).catch(() => null);
      return bytes !== null && bytes.length > 0 && bytes[0] >= 2;
    }, 120_000);
  } finally {
    node.kill("SIGKILL");
    await node.exited();
  }
  const n = await bootNode({ home, name: "durable.dev" });
  try {
    const kv = await injectJson<{ present: number; highest: number; bad: number[] }>(n, OWNER, {
      KvCheck: { n: 100_000 },
    }, 120);
    assert(kv.present >= acknowledged, `acknowledged ${acknowledged}, found ${kv.present}`);
    assertEquals(kv.bad, []);
    assertEquals(kv.highest, kv.present - 1, "sequential writes leave no holes");
    assert(kv.present > acknowledged, "the stream was running when the node died");
    const files = await injectJson<{ len: number; uniform: boolean; rows: number; contiguous: boolean }>(
      n,
      OWNER,
      { RewriteCheck: { path: "/store:test.os/data/big.bin" } },
    );
    assertEquals([files.len, files.uniform, files.contiguous], [256 * 1024, true, true]);
    assert(files.rows > 0, "rows were written before the kill");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});
