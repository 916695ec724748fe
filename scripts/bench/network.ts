/**
 * Network benchmarks: two nodes on loopback, each in its own OS process, a
 * process on one streaming blobs to a process on the other over a Noise
 * link, beside raw Deno TCP loopback carrying the same bytes in the same
 * run; and handshake time beside a plain TCP connect.
 */
import { Node } from "../../runtime/boot.ts";
import { buildPackage } from "../../runtime/packages/build.ts";
import { readPkgDir } from "../../runtime/packages/install.ts";
import { startChain } from "../../runtime/testing.ts";
import { callProcess, fmt, median, printRows, type Row } from "./util.ts";
import { CipherState } from "../../modules/net/noise.ts";
import { loadLibcrypto } from "../../modules/net/aead_libcrypto.ts";
import { encodeBase64 } from "../../runtime/bytes.ts";
import { RUN_ARGS } from "../../cli/run_args.ts";

const KBENCH = new URL("./kbench", import.meta.url).pathname;

async function rawTcp(total: number, chunk: number): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const received = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(256 * 1024);
    let got = 0;
    while (got < total) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += n;
    }
    await conn.write(Uint8Array.of(1));
    conn.close();
    return got;
  })();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const data = new Uint8Array(chunk).fill(3);
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += chunk) {
    let w = 0;
    while (w < chunk) w += await conn.write(data.subarray(w));
  }
  await conn.read(new Uint8Array(1));
  const ms = performance.now() - t0;
  conn.close();
  listener.close();
  if ((await received) < total) throw new Error("raw tcp lost bytes");
  return ms;
}

/**
 * The protocol's cipher alone, as a link runs it (libcrypto when it loads, sealing into and opening from reused
 * buffers; node:crypto otherwise): seal and open `total` bytes in 65519-byte pieces on one thread, as the two
 * nodes in this process must. No link can beat this, whatever TCP does.
 */
function aeadOnly(total: number): number {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const sealer = new CipherState(key), opener = new CipherState(key);
  const piece = new Uint8Array(65519).fill(3);
  const sealed = new Uint8Array(65535), opened = new Uint8Array(65519);
  const t0 = performance.now();
  for (let done = 0; done < total; done += piece.length) {
    opener.openInto(sealed.subarray(0, sealer.sealInto(piece, sealed)), opened);
  }
  return performance.now() - t0;
}

function call<T>(node: Node, body: unknown): Promise<T> {
  return callProcess<T>(node.port, "client:kbench:bench.os", body);
}

/** Starts a node in its own OS process, as a user would, and installs the bench package on it. */
async function nodeProcess(name: string, chainPort: number, packageId: string) {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-nbench-" });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN_ARGS, "boot-fake-node", "-f", name, "-p", String(port), "-o", home, "-c", String(chainPort)],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const dec = new TextDecoder();
  let out = "";
  const reader = child.stdout.getReader();
  while (!/node ready/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${name} did not boot:\n${out}`);
    out += dec.decode(value);
  }
  reader.releaseLock();
  child.stdout.cancel();
  const files = Object.fromEntries(Object.entries(readPkgDir(`${KBENCH}/pkg`)).map(([k, v]) => [k, encodeBase64(v)]));
  const r = await fetch(`http://127.0.0.1:${port}/rpc:distro:sys/install`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ package_id: packageId, files }),
  });
  if (r.status !== 200) throw new Error(`install on ${name} failed: ${await r.text()}`);
  await r.body?.cancel();
  return {
    async stop() {
      child.kill("SIGINT");
      await child.status;
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
}

export async function networkBench(): Promise<Row[]> {
  const chain = await startChain();
  const chainPort = chain.port;
  const { packageId } = await buildPackage(KBENCH, { onlyIfStale: true });
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-nbench-" });
  const one = await Node.boot({ home, name: "one.dev", port: 0, write: () => {}, network: { chainPort } });
  one.install(packageId, readPkgDir(`${KBENCH}/pkg`));
  // The receiving node runs in its own OS process, as it would on another machine.
  const two = await nodeProcess("two.dev", chainPort, packageId);
  const rows: Row[] = [];
  try {
    while (!one.net!.hns.has("two.dev")) await new Promise((r) => setTimeout(r, 10));
    const target = "two.dev@server:kbench:bench.os";
    await call(one, { Pipelined: { n: 20, target, blob: 65536, body: "sink" } });
    let cipher = 0;
    for (const form of ["bin", "ints"] as const) {
      // Integer arrays are what a reference node must be sent; two hyperdeno nodes agree on bin.
      one.net!.setReferenceOnly(form === "ints");
      const how = form === "bin" ? "bin, hyperdeno ↔ hyperdeno" : "integer arrays, as to a reference node";
      for (const [size, count] of [[64 * 1024, 2000], [1024 * 1024, 200]] as const) {
        const total = size * count;
        const ours: number[] = [], raw: number[] = [];
        for (let i = 0; i < 3; i++) {
          raw.push(await rawTcp(total, size));
          ours.push(
            (await call<{ ms: number }>(one, { Pipelined: { n: count, target, blob: size, body: "sink" } })).ms,
          );
        }
        if (one.net!.peers.current("two.dev")?.form !== form) throw new Error(`the link did not speak ${form}`);
        const o = total / (median(ours) / 1000) / 2 ** 20, r = total / (median(raw) / 1000) / 2 ** 20;
        const label = size >= 1 << 20 ? "1 MiB" : "64 KiB";
        if (size >= 1 << 20) {
          cipher ||= total / (aeadOnly(total) / 1000) / 2 ** 20;
          const bin = form === "bin";
          rows.push({
            name: `${label} messages (${how}), against the cipher alone (ChaCha20-Poly1305 seal + open, one thread)`,
            ours: `${fmt(o)} MiB/s`,
            baseline: `${fmt(cipher)} MiB/s ${loadLibcrypto() ? "libcrypto" : "node:crypto"} AEAD, no I/O`,
            ratio: o / cipher,
            target: bin ? "≥ 0.60×" : "report",
            pass: bin ? o / cipher >= 0.6 : true,
          });
        }
        rows.push({
          name: `${label} messages (${how}) process → process over a link (${fmt(total / 2 ** 20, 0)} MiB)`,
          ours: `${fmt(o)} MiB/s`,
          baseline: `${fmt(r)} MiB/s raw Deno TCP loopback`,
          ratio: o / r,
          target: "report",
          pass: true,
        });
      }
    }
    one.net!.setReferenceOnly(false);
    // Handshake: dial and complete XX with signed payloads, beside a bare TCP connect.
    const id = one.net!.hns.get("two.dev")!;
    const hs: number[] = [], tcp: number[] = [];
    for (let i = 0; i < 20; i++) {
      let t = performance.now();
      const link = await one.net!.peers.dialDirect(id, null);
      hs.push(performance.now() - t);
      link.close();
      t = performance.now();
      const c = await Deno.connect({ hostname: "127.0.0.1", port: id.ports.tcp });
      tcp.push(performance.now() - t);
      c.close();
    }
    rows.push({
      name: "handshake: connect + Noise XX + signatures (median)",
      ours: `${median(hs).toFixed(2)} ms`,
      baseline: `${median(tcp).toFixed(2)} ms bare TCP connect`,
      ratio: median(hs) / median(tcp),
      target: "≤ 5 ms",
      pass: median(hs) <= 5,
    });
  } finally {
    await one.shutdown();
    await Deno.remove(home, { recursive: true });
    await two.stop();
    await chain.stop();
  }
  return rows;
}

if (import.meta.main) printRows("network", await networkBench());
