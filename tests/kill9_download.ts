/**
 * kill -9 during a download of KILL9_MIB (default 128; issue 18 asks 300) with Kino Files between two nodes in their
 * own OS processes: the receiver in some rounds, the provider in the others,
 * SIGKILLed (with its process hosts) at a random moment of the transfer, then
 * booted again on its home. The transfer must resume by itself and end with
 * the provider's SHA-256, and the receiver's files drive, watched throughout,
 * must never hold a file under its final name that is not the whole file.
 */
import { assert, assertEquals } from "./assert.ts";
import { cli } from "./cli_helpers.ts";
import { download, FT_PKG, transfer } from "./ft_helpers.ts";
import { type TestChain, waitFor } from "../runtime/testing.ts";
import { seeded, sleep, withRebooting } from "./kill9_helpers.ts";
import { createHash } from "node:crypto";

const MIB = Number(Deno.env.get("KILL9_MIB") ?? 128);
if (!Number.isSafeInteger(MIB) || MIB < 4 || MIB % 4) {
  throw new Error(`KILL9_MIB should be a multiple of 4, not ${MIB}`);
}
const SIZE = MIB * 1024 * 1024;
const DRIVE = "vfs/file-transfer:template.os";

/** SHA-256 of a file, read in 8 MiB pieces. */
async function hashFile(path: string): Promise<string> {
  const h = createHash("sha256");
  const f = await Deno.open(path);
  try {
    const buf = new Uint8Array(8 * 1024 * 1024);
    for (let n; (n = await f.read(buf)) !== null;) h.update(buf.subarray(0, n));
  } finally {
    f.close();
  }
  return h.digest("hex");
}

/** A file of `SIZE` random bytes at `path`; its SHA-256. */
async function writeRandom(path: string): Promise<string> {
  const h = createHash("sha256");
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    // 4 MiB pieces: SIZE is a whole number of them.
    const buf = new Uint8Array(4 * 1024 * 1024);
    for (let off = 0; off < SIZE; off += buf.length) {
      for (let k = 0; k < buf.length; k += 65536) crypto.getRandomValues(buf.subarray(k, k + 65536));
      h.update(buf);
      for (let w = 0; w < buf.length;) w += await f.write(buf.subarray(w));
    }
  } finally {
    f.close();
  }
  return h.digest("hex");
}

/**
 * Watches a files drive every few milliseconds: every file under a final name
 * must have the whole size at first sight (and is hashed once, later).
 */
class DriveWatch {
  seen = new Set<string>();
  wrong: string[] = [];
  private on = true;
  private loop: Promise<void>;

  constructor(private dir: string) {
    this.loop = this.run();
  }

  private async run() {
    while (this.on) {
      this.look();
      await sleep(10);
    }
  }

  look() {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(this.dir)];
    } catch { /* not made yet */ }
    for (const e of entries) {
      let size = -1;
      try {
        size = Deno.statSync(`${this.dir}/${e.name}`).size;
      } catch {
        /* removed meanwhile */ continue;
      }
      if (size !== SIZE) this.wrong.push(`${e.name}: ${size} bytes under its final name`);
      this.seen.add(e.name);
    }
  }

  async stop() {
    this.on = false;
    await this.loop;
  }
}

export function downloadRounds(chain: TestChain, rounds: number): Promise<number[]> {
  const rng = seeded("kill -9 during a 300 MiB download");
  return withRebooting(
    "kill9-receiver.dev",
    chain,
    (receiver) =>
      withRebooting("kill9-provider.dev", chain, async (provider) => {
        const nodes = { receiver, provider };
        const at = { port: receiver.port };
        const files = `${receiver.home}/${DRIVE}/files`;
        const shared = `${provider.home}/${DRIVE}/files`;
        const times: number[] = [];
        const watch = new DriveWatch(files);
        try {
          assertEquals((await cli("build", FT_PKG)).code, 0);
          for (const n of [receiver, provider]) {
            assertEquals((await cli("start-package", FT_PKG, "-p", String(n.port))).code, 0);
          }
          await Deno.mkdir(shared, { recursive: true });
          const sha256 = await writeRandom(`${shared}/big.bin`);

          // One whole download first: that the two see each other, and how long a transfer takes here.
          let t = performance.now();
          let id = "";
          await waitFor("the receiver to know the provider", async () => {
            id = await download(at, "big.bin", provider.name).catch(() => "");
            return id !== "";
          }, 60_000);
          await finished(at, id, sha256, "the first download");
          const whole = performance.now() - t;
          console.log(`a whole ${MIB} MiB download takes ${(whole / 1000).toFixed(1)} s here`);
          assertEquals(await hashFile(`${files}/big.bin`), sha256);
          await Deno.remove(`${files}/big.bin`);

          for (let round = 0; round < rounds; round++) {
            t = performance.now();
            const who = round % 2 === 0 ? "receiver" : "provider";
            const name = `big-${round}.bin`;
            const where = `round ${round} (seed ${rng.seed}, ${who} killed)`;
            // The provider shares the same bytes under a name of the round's own.
            await Deno.link(`${shared}/big.bin`, `${shared}/${name}`);
            id = await download(at, name, provider.name);
            const killAt = rng.between(0, whole * 1.1);
            await sleep(killAt);
            await nodes[who].crash();
            // What the kill left: a file under its final name is the whole one.
            watch.look();
            if (watch.seen.has(name)) {
              assertEquals(await hashFile(`${files}/${name}`), sha256, `${where}: after the kill`);
            }
            await nodes[who].boot();
            const done = await finished(at, id, sha256, where);
            assertEquals(await hashFile(`${files}/${name}`), sha256, `${where}: the file under its final name`);
            const partials = [...Deno.readDirSync(`${receiver.home}/${DRIVE}/partial`)].map((e) => e.name);
            assertEquals(partials, [], `${where}: partial files left once it was done`);
            console.log(
              `${where}: killed at ${
                (killAt / 1000).toFixed(2)
              } s, done after ${done.attempts} attempts (resumed from ${done.resumed_from ?? 0} bytes)`,
            );
            await Deno.remove(`${files}/${name}`);
            await Deno.remove(`${shared}/${name}`);
            times.push(performance.now() - t);
          }
        } finally {
          await watch.stop();
        }
        assertEquals(watch.wrong, [], "files seen under their final name that were not whole");
        return times;
      }),
  );
}

/** Waits until transfer `id` is done (failing at once if it fails) and checks what it reports. */
async function finished(node: { port: number }, id: string, sha256: string, where: string) {
  let t = await transfer(node, id).catch(() => null);
  await waitFor(`${where}: the transfer to finish`, async () => {
    t = await transfer(node, id).catch(() => t);
    assert(t?.status !== "failed" && t?.status !== "cancelled", `${where}: the transfer ended ${JSON.stringify(t)}`);
    return t?.status === "done";
  }, 300_000);
  assertEquals([t!.size, t!.sha256], [SIZE, sha256], `${where}: what the transfer reports`);
  return t!;
}
