/**
 * What a crash in the middle of an install leaves, taken exactly: the home is
 * copied the moment installPackage returns (its pkg drive swapped, the
 * process map's write not yet begun), which is what kill -9 at that moment
 * leaves on disk, and a node boots on the copy.
 */
import { assertEquals } from "./assert.ts";
import { bootNode, injectJson, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";

const PKG = "phoenix:test.os";
const DIR = `${FIXTURES}phoenix`;

/** The home as it is on disk now: the copy runs while this thread (and so the node's every write) waits. */
function snapshot(home: string): string {
  const copy = Deno.makeTempDirSync({ prefix: "hyperdeno-install-crash-" });
  const r = new Deno.Command("cp", { args: ["-a", `${home}/.`, copy] }).outputSync();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  Deno.removeSync(`${copy}/node.lock`);
  return copy;
}

async function packageOn(home: string): Promise<{ processes: string[]; files: string[] }> {
  const n = await bootNode({ home });
  try {
    const map = await injectJson<{ Debug: { ProcessMap: Record<string, unknown> } }>(n, "kernel:distro:sys", {
      Debug: "ProcessMap",
    });
    const processes = Object.keys(map.Debug.ProcessMap).filter((id) => id.endsWith(`:${PKG}`)).sort();
    for (const id of processes) {
      await waitFor(`${id} to answer`, () => injectJson(n, id, "Version").then(() => true, () => false), 30_000);
    }
    let files: string[] = [];
    try {
      files = Object.keys(readPkgDir(`${home}/vfs/${PKG}/pkg`)).sort();
    } catch { /* no pkg drive */ }
    return { processes, files };
  } finally {
    await n.shutdown();
  }
}

/** A node's home as kill -9 would leave it the moment `crashAfter` returns (after `before`, which may wait). */
async function homeAfterCrash(before: (n: TestNode) => Promise<void>, crashAfter: (n: TestNode) => void) {
  const node = await bootNode();
  try {
    await before(node);
    crashAfter(node);
    return snapshot(node.opts.home);
  } finally {
    await node.shutdown();
    await removeHome(node);
  }
}

Deno.test("install: a crash after the pkg drive is swapped but before the process map is written boots with the package whole", async () => {
  await buildPackage(DIR, { onlyIfStale: true });
  const files = readPkgDir(`${DIR}/pkg`);
  const copy = await homeAfterCrash(() => Promise.resolve(), (n) => n.install(PKG, files));
  try {
    // Either the whole package (its process in the map and answering, its files) or none of it.
    assertEquals(await packageOn(copy), { processes: [`rise:${PKG}`], files: Object.keys(files).sort() });
  } finally {
    await Deno.remove(copy, { recursive: true }).catch(() => {});
  }
});

Deno.test("install: a crash in the middle of an upgrade boots with the new version whole, never new files under the old map", async () => {
  await buildPackage(DIR, { onlyIfStale: true });
  const v1 = readPkgDir(`${DIR}/pkg`);
  // v2: a second process, and a file v1 lacks.
  const manifest = JSON.parse(new TextDecoder().decode(v1["manifest.json"]));
  manifest.push({ ...manifest[0], process_name: "ember" });
  const v2 = { ...v1, "manifest.json": new TextEncoder().encode(JSON.stringify(manifest)), "v2.txt": Uint8Array.of(2) };
  const copy = await homeAfterCrash(async (n) => {
    await install(n, DIR);
    await n.kernel.processes.flush();
  }, (n) => n.install(PKG, v2));
  try {
    assertEquals(await packageOn(copy), {
      processes: [`ember:${PKG}`, `rise:${PKG}`],
      files: Object.keys(v2).sort(),
    });
  } finally {
    await Deno.remove(copy, { recursive: true }).catch(() => {});
  }
});
