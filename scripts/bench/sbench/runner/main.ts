/** Storage benchmarks from inside a process, as an app would use the modules. */
import { awaitMessage, kv, Response, sqlite, vfs } from "@hyperdeno/process_lib";

const PKG = "sbench:bench.os";
const MiB = 1024 * 1024;

/** Runs `n` operations with up to `window` in flight. */
async function windowed(n: number, window: number, op: (i: number) => Promise<unknown>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(window, n) }, async () => {
    while (next < n) await op(next++);
  });
  await Promise.all(lanes);
}

async function vfsWriteRead(totalMiB: number) {
  await vfs.createDrive(PKG, "bench");
  const path = `/${PKG}/bench/big.bin`;
  const chunk = new Uint8Array(MiB).fill(7);
  const f = await vfs.createFile(path);
  let t = performance.now();
  for (let i = 0; i < totalMiB; i++) await f.writeAll(chunk);
  const writeMs = performance.now() - t;
  await f.seek({ Start: 0 });
  t = performance.now();
  let got = 0;
  for (let i = 0; i < totalMiB; i++) got += (await f.readExact(MiB)).length;
  const readMs = performance.now() - t;
  await vfs.removeFile(path);
  return { writeMs, readMs, got };
}

async function kvOps(n: number, window: number) {
  const db = await kv.open(PKG, "bench");
  const value = new Uint8Array(100).fill(1);
  let t = performance.now();
  await windowed(n, window, (i) => db.set(`key-${i}`, value));
  const setMs = performance.now() - t;
  t = performance.now();
  await windowed(n, window, (i) => db.get(`key-${i}`));
  const getMs = performance.now() - t;
  return { setMs, getMs };
}

async function sqlInserts(n: number, window: number) {
  const db = await sqlite.open(PKG, "bench");
  await db.write("CREATE TABLE IF NOT EXISTS t (id INTEGER, name TEXT, score REAL)");
  const t = performance.now();
  const tx = await db.beginTx();
  await windowed(n, window, (i) => db.write("INSERT INTO t VALUES (?, ?, ?)", [i, `name ${i}`, i / 3], tx));
  await db.commitTx(tx);
  return { ms: performance.now() - t };
}

export default async function init(_our: string) {
  while (true) {
    const msg = await awaitMessage().catch(() => null);
    if (!msg?.isRequest()) continue;
    const cmd = msg.json<Record<string, { n: number; window?: number }>>();
    const [name, a] = Object.entries(cmd)[0];
    let result: unknown;
    if (name === "Vfs") result = await vfsWriteRead(a.n);
    else if (name === "Kv") result = await kvOps(a.n, a.window ?? 1);
    else if (name === "Sql") result = await sqlInserts(a.n, a.window ?? 1);
    Response.to(msg).json(result).send();
  }
}
