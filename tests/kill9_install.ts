/**
 * kill -9 during an install: the phoenix fixture in two versions (v2 has a
 * second process and other files), installed over the HTTP path
 * `start-package` uses while the node's process group is SIGKILLed at a
 * random moment; after a boot on the same home the package is as it was
 * before, or wholly the version being installed (its processes in the map and
 * answering with that version, its pkg drive byte for byte), and installing it
 * again with `start-package` works.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli } from "./cli_helpers.ts";
import { FIXTURES } from "./helpers.ts";
import { injectJson, type TestChain } from "../runtime/testing.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { encodeBase64 } from "../runtime/bytes.ts";
import { askRunning, seeded, sleep, withRebooting } from "./kill9_helpers.ts";

const PKG = "phoenix:test.os";

interface Version {
  name: string;
  dir: string;
  files: Record<string, Uint8Array>;
  processes: string[];
}

/** The fixture copied to `root`, made into version `n` (n = 2 adds a process) and built. */
async function makeVersion(root: string, n: number): Promise<Version> {
  const dir = `${root}/v${n}`;
  for (const f of ["metadata.json", "pkg/manifest.json", "rise/main.ts"]) {
    await Deno.mkdir(`${dir}/${f.slice(0, f.lastIndexOf("/"))}`, { recursive: true });
    await Deno.copyFile(`${FIXTURES}phoenix/${f}`, `${dir}/${f}`);
  }
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/pkg/manifest.json`));
  if (n === 2) manifest.push({ ...manifest[0], process_name: "ember" });
  await Deno.writeTextFile(`${dir}/pkg/manifest.json`, JSON.stringify(manifest, null, 2));
  await Deno.writeTextFile(`${dir}/pkg/version.txt`, `v${n}\n`);
  // Enough bytes that writing the pkg drive takes a while, each version its own.
  await Deno.writeFile(`${dir}/pkg/payload.bin`, new Uint8Array(8 * 1024 * 1024).fill(n));
  const built = await cli("build", dir);
  assertEquals(built.code, 0, built.err);
  return {
    name: `v${n}`,
    dir,
    files: readPkgDir(`${dir}/pkg`),
    processes: manifest.map((e: { process_name: string }) => `${e.process_name}:${PKG}`).sort(),
  };
}

/** What the node holds of the package: "none", a version's name, or a description of the mix it is. */
async function observe(port: number, home: string, versions: Version[]): Promise<string> {
  const map = await injectJson<{ Debug: { ProcessMap: Record<string, unknown> } }>(
    { port },
    "kernel:distro:sys",
    { Debug: "ProcessMap" },
  );
  const ids = Object.keys(map.Debug.ProcessMap).filter((id) => id.endsWith(`:${PKG}`)).sort();
  const root = `${home}/vfs/${PKG}`;
  const leftovers = [...readDirOr(root)].filter((n) => n.startsWith(".pkg-"));
  const files = readDirOr(`${root}/pkg`).length ? readPkgDir(`${root}/pkg`) : {};
  const names = Object.keys(files).sort();
  if (leftovers.length) return `leftovers ${leftovers.join(", ")}`;
  if (ids.length === 0 && names.length === 0) return "none";
  const v = versions.find((v) =>
    JSON.stringify(v.processes) === JSON.stringify(ids) &&
    JSON.stringify(Object.keys(v.files).sort()) === JSON.stringify(names) &&
    names.every((n) => equalBytes(files[n], v.files[n]))
  );
  if (!v) {
    const like = versions.find((v) => names.every((n) => v.files[n] && equalBytes(files[n], v.files[n])));
    return `half: processes [${ids.join(", ")}], pkg drive ${like ? `of ${like.name}` : "of neither version"} (${
      names.join(", ")
    })`;
  }
  // Installed means running: every process answers, with the version its drive holds.
  for (const id of ids) {
    const { version } = await askRunning<{ version: string }>(port, id, "Version", 30);
    if (version !== v.name) return `${v.name} on disk, but ${id} answers ${version}`;
  }
  return v.name;
}

function readDirOr(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return [];
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function installRounds(chain: TestChain, rounds: number): Promise<number[]> {
  const rng = seeded("kill -9 during an install");
  const builds = await Deno.makeTempDir({ prefix: "hyperdeno-kill9-phoenix-" });
  const times: number[] = [];
  try {
    const versions = [await makeVersion(builds, 1), await makeVersion(builds, 2)];
    const bodies = versions.map((v) =>
      JSON.stringify({
        package_id: PKG,
        files: Object.fromEntries(Object.entries(v.files).map(([k, b]) => [k, encodeBase64(b)])),
      })
    );
    await withRebooting("kill9-phoenix.dev", chain, async (n) => {
      const { port, home } = n;
      const post = (v: Version) =>
        fetch(`http://127.0.0.1:${port}/rpc:distro:sys/install`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: bodies[versions.indexOf(v)],
        }).then((r) => r.text());
      const remove = async () =>
        assertEquals((await cli("remove-package", "-a", "phoenix", "-u", "test.os", "-p", String(port))).code, 0);
      // How long an install takes here, for where to kill: the window is that and a bit.
      const t = performance.now();
      await post(versions[0]);
      const window = (performance.now() - t) * 1.3;
      await remove();
      let state = "none";
      for (let round = 0; round < rounds; round++) {
        const t0 = performance.now();
        const where = `round ${round} (seed ${rng.seed})`;
        if (state !== "none" && rng.next() < 1 / 3) {
          await remove();
          state = "none";
        }
        const target = state === "v1" ? versions[1] : state === "v2" ? versions[0] : versions[rng.next() < 0.5 ? 0 : 1];
        const installing = post(target).catch(() => null);
        const killAt = rng.between(0, window);
        await sleep(killAt);
        await n.crash();
        await installing;

        await n.boot();
        const after = await observe(port, home, versions);
        assert(
          after === state || after === target.name,
          `${where}: installing ${target.name} over ${state}, killed: after the boot the node holds ${after}`,
        );
        const again = await cli("start-package", target.dir, "-p", String(port));
        assertEquals(again.code, 0, `${where}: installing ${target.name} again: ${again.err}`);
        assertEquals(await observe(port, home, versions), target.name, `${where}: installed again`);
        console.log(`${where}: ${state} → ${target.name}, killed at ${Math.round(killAt)} ms: ${after}`);
        state = target.name;
        times.push(performance.now() - t0);
      }
    });
  } finally {
    await Deno.remove(builds, { recursive: true }).catch(() => {});
  }
  return times;
}
