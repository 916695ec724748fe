/**
 * Storage benchmarks: a process using vfs, kv and sqlite through the kernel,
 * beside Deno.writeFile/readFile and node:sqlite called directly, same run.
 */
import { DatabaseSync } from "node:sqlite";
import { Node } from "../../runtime/boot.ts";
import { buildPackage } from "../../runtime/packages/build.ts";
import { readPkgDir } from "../../runtime/packages/install.ts";
import { callProcess, fmt, median, printRows, type Row } from "./util.ts";

const SBENCH = new URL("./sbench", import.meta.url).pathname;
const MiB = 1024 * 1024;

function call<T>(node: Node, body: unknown): Promise<T> {
  return callProcess<T>(node.port, "runner:sbench:bench.os", body);
}

function directKv(dir: string, n: number) {
  const db = new DatabaseSync(`${dir}/direct-kv.sqlite`);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  db.exec("CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
  const set = db.prepare(
    "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  );
  const get = db.prepare("SELECT value FROM kv WHERE key = ?");
  const te = new TextEncoder();
  const value = new Uint8Array(100).fill(1);
  let t = performance.now();
  for (let i = 0; i < n; i++) set.run(te.encode(`key-${i}`), value);
  const setMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < n; i++) get.get(te.encode(`key-${i}`));
  const getMs = performance.now() - t;
  db.close();
  return { setMs, getMs };
}

function directSql(dir: string, n: number) {
  const db = new DatabaseSync(`${dir}/direct.sqlite`);
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER, name TEXT, score REAL)");
  const t = performance.now();
  db.exec("BEGIN");
  const ins = db.prepare("INSERT INTO t VALUES (?, ?, ?)");
  for (let i = 0; i < n; i++) ins.run(i, `name ${i}`, i / 3);
  db.exec("COMMIT");
  const ms = performance.now() - t;
  db.close();
  return { ms };
}

export async function storageBench(): Promise<Row[]> {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-sbench-" });
  const node = await Node.boot({ home, name: "bench.dev", port: 0, write: () => {} });
  const { packageId } = await buildPackage(SBENCH, { onlyIfStale: true });
  node.install(packageId, readPkgDir(`${SBENCH}/pkg`));
  const rows: Row[] = [];
  try {
    const total = 256;
    const bytes = new Uint8Array(total * MiB).fill(7);
    let t = performance.now();
    await Deno.writeFile(`${home}/direct.bin`, bytes);
    const dWrite = performance.now() - t;
    t = performance.now();
    const back = await Deno.readFile(`${home}/direct.bin`);
    const dRead = performance.now() - t;
    await Deno.remove(`${home}/direct.bin`);
    if (back.length !== bytes.length) throw new Error("direct read came back short");
    const v = await call<{ writeMs: number; readMs: number; got: number }>(node, { Vfs: { n: total } });
    if (v.got !== total * MiB) throw new Error(`vfs read ${v.got} bytes`);
    const mbps = (ms: number) => `${fmt(total / (ms / 1000))} MiB/s`;
    rows.push({
      name: "vfs write 256 MiB in 1 MiB chunks",
      ours: mbps(v.writeMs),
      baseline: `${mbps(dWrite)} Deno.writeFile`,
      ratio: dWrite / v.writeMs,
      target: "≥ 0.60×",
      pass: dWrite / v.writeMs >= 0.6,
    });
    rows.push({
      name: "vfs read 256 MiB in 1 MiB chunks",
      ours: mbps(v.readMs),
      baseline: `${mbps(dRead)} Deno.readFile`,
      ratio: dRead / v.readMs,
      target: "≥ 0.60×",
      pass: dRead / v.readMs >= 0.6,
    });

    const N = 20_000;
    const dk = directKv(home, N);
    const k = await call<{ setMs: number; getMs: number }>(node, { Kv: { n: N, window: 1024 } });
    const ops = (ms: number) => `${fmt(N / (ms / 1000))} ops/s`;
    rows.push({
      name: "kv set, 100-byte values",
      ours: ops(k.setMs),
      baseline: `${ops(dk.setMs)} node:sqlite direct`,
      ratio: dk.setMs / k.setMs,
      target: "≥ 0.30×",
      pass: dk.setMs / k.setMs >= 0.3,
    });
    rows.push({
      name: "kv get",
      ours: ops(k.getMs),
      baseline: `${ops(dk.getMs)} node:sqlite direct`,
      ratio: dk.getMs / k.getMs,
      target: "≥ 0.30×",
      pass: dk.getMs / k.getMs >= 0.3,
    });

    const S = 50_000;
    directSql(home, 5000);
    await call(node, { Sql: { n: 5000, window: 256 } });
    const dsMs: number[] = [], sMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      dsMs.push(directSql(home, S).ms);
      sMs.push((await call<{ ms: number }>(node, { Sql: { n: S, window: 256 } })).ms);
    }
    const ds = median(dsMs), so = median(sMs);
    rows.push({
      name: "sqlite inserts in one transaction (median of 3)",
      ours: `${fmt(S / (so / 1000))} rows/s`,
      baseline: `${fmt(S / (ds / 1000))} rows/s node:sqlite direct`,
      ratio: ds / so,
      target: "≥ 0.50×",
      pass: ds / so >= 0.5,
    });
  } finally {
    await node.shutdown();
    await Deno.remove(home, { recursive: true });
  }
  return rows;
}

if (import.meta.main) printRows("storage", await storageBench());
