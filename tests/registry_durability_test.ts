/**
 * kill -9 against process state and reinstalls: what setState acknowledged is
 * on disk, and a reinstall never leaves the process map without the package.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli, freePort, NodeProcess } from "./cli_helpers.ts";
import { FIXTURES } from "./helpers.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { encodeBase64 } from "../runtime/bytes.ts";

const KEEPER = "keeper:registry-keeper:test.os";
const DIR = `${FIXTURES}registry_keeper`;

async function ask<T>(port: number, body: unknown): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}/rpc:distro:sys/message`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ process: KEEPER, body: JSON.stringify(body), expects_response: 20 }),
  });
  const j = await r.json();
  if (r.status !== 200) throw new Error(`${KEEPER} did not answer: ${r.status} ${JSON.stringify(j)}`);
  return JSON.parse(j.body) as T;
}

/** A persisted node in its own OS process, on its own ports and its own fake chain. */
async function bootProcess(home: string): Promise<{ node: NodeProcess; port: number }> {
  const port = freePort();
  const node = new NodeProcess(["-p", String(port), "-o", home, "--persist", "-c", String(freePort())]);
  await node.waitFor(/node ready/, 60_000);
  return { node, port };
}

async function kill9(node: NodeProcess) {
  node.kill("SIGKILL");
  await node.exited();
}

Deno.test("state: every setState a process acknowledged survives kill -9 right after the answer (8 rounds)", async () => {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-registry-state-" });
  assertEquals((await cli("build", DIR)).code, 0);
  let acknowledged: number | null = null;
  let next = 1;
  try {
    for (let round = 0; round < 9; round++) {
      const { node, port } = await bootProcess(home);
      let killed = false;
      try {
        if (round === 0) {
          const started = await cli("start-package", DIR, "-p", String(port));
          assertEquals(started.code, 0);
          // What the package asked for is shown where it is installed, and in the node's log.
          assert(started.out.includes(`granted process ${KEEPER}: public`), started.out);
          await node.waitFor(/install registry-keeper:test\.os: granted process keeper/);
        }
        const { state } = await ask<{ state: number | null }>(port, "Get");
        assertEquals(state, acknowledged, `round ${round}: the state after kill -9 is the last acknowledged value`);
        if (round === 8) break;
        const n = 20 + Math.floor(Math.random() * 30);
        for (let i = 0; i < n; i++) {
          const { saved } = await ask<{ saved: number }>(port, { Set: next });
          acknowledged = saved;
          next++;
        }
        node.kill("SIGKILL"); // at once, before anything else runs in this test
        killed = true;
      } finally {
        if (!killed) node.kill("SIGKILL");
        await node.exited();
      }
    }
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});

Deno.test("install: kill -9 during a reinstall never drops a Restart package from the process map (10 rounds)", async () => {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-registry-reinstall-" });
  assertEquals((await cli("build", DIR)).code, 0);
  const files = Object.fromEntries(Object.entries(readPkgDir(`${DIR}/pkg`)).map(([k, v]) => [k, encodeBase64(v)]));
  const body = JSON.stringify({ package_id: "registry-keeper:test.os", files });
  try {
    for (let round = 0; round <= 10; round++) {
      const { node, port } = await bootProcess(home);
      try {
        if (round === 0) assertEquals((await cli("start-package", DIR, "-p", String(port))).code, 0);
        else {
          const map = JSON.parse(await Deno.readTextFile(`${home}/kernel/process_map.json`));
          assert(
            KEEPER in map,
            `round ${round}: the package is in the persisted process map ${Object.keys(map)} ${node.output}`,
          );
        }
        // Running again after the kill: it was in the map and its code is whole.
        assertEquals(await ask(port, "Get"), { state: null });
        if (round === 10) break;
        const installing = fetch(`http://127.0.0.1:${port}/rpc:distro:sys/install`, { method: "POST", body })
          .then((r) => r.body?.cancel(), () => {});
        await new Promise((r) => setTimeout(r, round * 3));
        node.kill("SIGKILL");
        await installing;
      } finally {
        await kill9(node);
      }
    }
  } finally {
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
