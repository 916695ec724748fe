/**
 * The runtime modules under a hostile package (tests/fixtures/modules_hog):
 * every over-large request is refused with the module's own error and a line
 * in the log, and a well-behaved package beside it (modules_calm) keeps being
 * served promptly.
 */
import { deflateSync, zipSync } from "fflate";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { inject, injectJson, type TestNode, withNode as withPackages } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

const HOG = "hog:modules-hog:test.os";
const CALM = "calm:modules-calm:test.os";
const GiB = 2 ** 30, MiB = 2 ** 20;

const withNode = (f: (n: TestNode) => Promise<void>) =>
  withPackages([`${FIXTURES}modules_hog`, `${FIXTURES}modules_calm`], f);

/** Milliseconds a round trip to the calm package takes. */
async function pingMs(n: TestNode, what: "Ping" | "Query" = "Ping"): Promise<number> {
  const t = performance.now();
  const r = await injectJson<unknown>(n, CALM, what);
  assert(r === "pong" || (r as { rows?: unknown }).rows, `calm answered ${JSON.stringify(r)}`);
  return performance.now() - t;
}

/**
 * Pings the calm package every 50 ms until `work` settles, and checks that no ping waited on the work: none took
 * half as long as the work did (a ping held by it would take about as long) or, for short work, over a second.
 * Relative to the work, the bound holds on a busy machine, where both slow down together.
 */
async function pingsKeepAnsweringDuring(n: TestNode, work: Promise<unknown>, what: string) {
  const t = performance.now();
  let done = false, slowest = 0;
  work.finally(() => done = true).catch(() => {});
  while (!done) {
    slowest = Math.max(slowest, await pingMs(n));
    await new Promise((r) => setTimeout(r, 50));
  }
  const workMs = performance.now() - t;
  assert(
    slowest < Math.max(1000, workMs / 2),
    `a ping took ${slowest.toFixed(0)} ms during ${what}, which took ${workMs.toFixed(0)} ms`,
  );
}

/** Deno asks for --allow-all to read /proc itself; a shell reads it for us. */
async function sh(script: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("bash", { args: ["-c", script, ...args] }).output();
  return new TextDecoder().decode(out.stdout);
}
const openFds = async () => Number(await sh('ls "/proc/$0/fd" | wc -l', String(Deno.pid)));
/** The count once it stops moving (the sandbox refills its warm threads a moment after a start). */
async function settledFds(): Promise<number> {
  let now = await openFds();
  for (let prev = -1, i = 0; now !== prev && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 300));
    [prev, now] = [now, await openFds()];
  }
  return now;
}

Deno.test("vfs: 20k CreateFile from one process stop at its 256-file quota; the node keeps serving", () =>
  withNode(async (n) => {
    const before = await settledFds();
    const r = await injectJson<{ opened: number; refusal: { IOError: { error: string } } }>(
      n,
      HOG,
      { OpenMany: { n: 20_000 } },
      120,
    );
    assertEquals(r.opened, 256);
    assertMatch(r.refusal.IOError.error, /too many open files/);
    const grown = await openFds() - before;
    assert(grown < 400, `descriptors grew by ${grown}`);
    const logged = n.lines.filter((l) => l.includes("too many open files")).length;
    assert(logged >= 1 && logged <= 20, `the refusal is logged, sampled: ${logged} lines`);
    await pingMs(n); // answered (the injection waits up to 60 s)
    assertEquals((await fetch(`http://127.0.0.1:${n.port}/`)).status < 500, true);
    // The quota is the process's: when it exits, its files close.
    n.kernel.killProcess(HOG);
    const left = await settledFds() - before;
    assert(left < 20, `an exited process's files are closed (${left} descriptors more than before)`);
  }));

Deno.test("vfs: reading a 2 GiB sparse file whole is refused with advice to read in chunks; memory stays flat", () =>
  withNode(async (n) => {
    await injectJson(n, HOG, { Drive: null });
    const host = `${n.opts.home}/vfs/modules-hog:test.os/data/sparse.bin`;
    await Deno.writeFile(host, new Uint8Array());
    await Deno.truncate(host, 2 * GiB);
    const rss = Deno.memoryUsage().rss;
    const work = injectJson<Record<string, { BadRequest: { error: string } } | number>>(n, HOG, {
      BigReads: { path: "/modules-hog:test.os/data/sparse.bin" },
    }, 120);
    await pingsKeepAnsweringDuring(n, work, "the file's reads and hash");
    const r = await work;
    for (const action of ["read", "readToString", "readExact", "readToEnd"]) {
      const e = r[action] as { BadRequest: { error: string } };
      assertMatch(e.BadRequest.error, /more than the 256 MiB one read may: read it in chunks/, action);
    }
    assertEquals([r.tail, r.hash], [1024, 32]);
    const grew = Deno.memoryUsage().rss - rss;
    assert(grew < 512 * MiB, `RSS grew by ${(grew / MiB).toFixed(0)} MiB`);
  }));

/** A zip whose entries are given already compressed, with headers that may lie about sizes. */
function rawZip(entries: { name: string; data: Uint8Array; method: 0 | 8; claimedSize: number }[]): Uint8Array {
  const te = new TextEncoder();
  const parts: Uint8Array[] = [], central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = te.encode(e.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, e.method, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.claimedSize, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, e.method, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, e.claimedSize, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, e.data);
    central.push(cd);
    offset += local.length + e.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, Math.min(entries.length, 0xffff), true);
  ev.setUint16(10, Math.min(entries.length, 0xffff), true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of all) out.set(p, at), at += p.length;
  return out;
}

Deno.test("vfs: AddZip refuses a zip bomb and a 100k-entry zip quickly, off the kernel's thread", () =>
  withNode(async (n) => {
    // 32 entries of 64 MiB of zeros (2 GiB), each compressed to ~64 KiB, whose headers claim 1 KiB.
    const zeros = deflateSync(new Uint8Array(64 * MiB), { level: 9 });
    const bomb = rawZip(
      Array.from({ length: 32 }, (_, i) => ({ name: `z${i}.bin`, data: zeros, method: 8, claimedSize: 1024 })),
    );
    assert(bomb.length < 4 * MiB, `bomb is ${bomb.length} bytes`);
    const t = performance.now();
    const work = inject(n, HOG, { AddZip: null }, { blob: bomb, timeout: 60 });
    await pingsKeepAnsweringDuring(n, work, "the extraction");
    const r = JSON.parse((await work).body!) as { error: { BadRequest: { error: string } }; ms: number };
    assertMatch(r.error.BadRequest.error, /AddZip refused: the archive unpacks to more bytes than allowed/);
    // Refused, not unpacked: a bound for a hang (28 s at a load average of 26), the pings above show the kernel free.
    assert(performance.now() - t < 60_000, `the bomb took ${performance.now() - t} ms to refuse`);

    // 100k entries need ZIP64 (a plain zip counts to 65535), which is refused; 60k are past the entry limit.
    for (
      const [count, error] of [[100_000, /ZIP64 archives are not supported/], [60_000, /60000 entries, more/]] as const
    ) {
      const many = rawZip(
        Array.from({ length: count }, (_, i) => ({ name: `m${i}`, data: new Uint8Array(), method: 0, claimedSize: 0 })),
      );
      const r2 = JSON.parse((await inject(n, HOG, { AddZip: null }, { blob: many, timeout: 60 })).body!);
      assertMatch(r2.error.BadRequest.error, error);
    }
    assert(n.lines.some((l) => l.includes("AddZip refused")), "the refusal is logged");
    const unzipped = `${n.opts.home}/vfs/modules-hog:test.os/data/unzipped`;
    assertEquals(await Deno.stat(unzipped).then(() => true, () => false), false, "a refused zip writes nothing");

    // A fair archive still unpacks, and one that climbs out of its folder is refused.
    const fair = zipSync({ "a/b.txt": new TextEncoder().encode("hi") });
    assertEquals(JSON.parse((await inject(n, HOG, { AddZip: null }, { blob: fair })).body!).error, null);
    assertEquals(await Deno.readTextFile(`${unzipped}/a/b.txt`), "hi");
    const slip = rawZip([{ name: "../../evil.txt", data: new Uint8Array(1), method: 0, claimedSize: 1 }]);
    const s = JSON.parse((await inject(n, HOG, { AddZip: null }, { blob: slip })).body!);
    assertEquals(Object.keys(s.error), ["ParseError"]);
  }));

Deno.test("sqlite: one package's endless query is stopped at the time limit; another's answers meanwhile", () =>
  withNode(async (n) => {
    await pingMs(n, "Query");
    let stopped = false;
    const forever = injectJson<{ error: { RusqliteError: string }; ms: number; after: unknown }>(
      n,
      HOG,
      { SqlForever: null },
      60,
    ).finally(() => stopped = true);
    await new Promise((r) => setTimeout(r, 1000));
    // The endless query runs 10 s before its stop: answers before then did not wait on it.
    for (let i = 0; i < 3; i++) await pingMs(n, "Query");
    assert(!stopped, "the calm package's queries were answered while the endless one ran");
    const r = await forever;
    assertMatch(r.error.RusqliteError, /^interrupted: the call ran longer than 10 s and was stopped/);
    assert(r.ms >= 9_500 && r.ms < 20_000, `stopped after ${r.ms} ms`);
    assertEquals(r.after, [{ two: 2 }], "the package's next query runs in a fresh engine");
    assert(n.lines.some((l) => l.includes("modules-hog:test.os: a call ran longer than")), "the stop is logged");
    // The stopped engine is gone, not left spinning: one engine process remains for the package.
    const engines = await sh('pgrep -f -- "$0" | grep -vx "$$" | wc -l', `${n.opts.home}/sqlite/modules-hog:test.os`);
    assertEquals(Number(engines), 1);
  }));

Deno.test("timer: 40k timers from one process stop at 10,000 with TooManyTimers; its timers go when it exits", () =>
  withNode(async (n) => {
    const r = await injectJson<{ refused: number; first: unknown }>(n, HOG, { Timers: { n: 40_000 } }, 240);
    assertEquals(r.first, { TooManyTimers: { limit: 10_000 } });
    assertEquals(r.refused, 30_000);
    const logged = n.lines.filter((l) => l.includes("SetTimer refused")).length;
    assert(logged >= 1 && logged <= 200, `the refusals are logged, sampled: ${logged} lines`);
    await pingMs(n); // answered (the injection waits up to 60 s)
    const active = async () => {
      const from = n.lines.length;
      await inject(n, "timer:distro:sys", '"Debug"', { timeout: null });
      await new Promise((r) => setTimeout(r, 100));
      const line = n.lines.slice(from).find((l) => /timer: \d+ active/.test(l)) ?? "";
      return Number(line.match(/timer: (\d+) active/)?.[1]);
    };
    assertEquals(await active(), 10_000);
    n.kernel.killProcess(HOG);
    assertEquals(await active(), 0);
  }));
