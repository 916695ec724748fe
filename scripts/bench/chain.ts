/**
 * The chain: a registration (a Mint and four notes in one transaction) beside a bare transfer on the same anvil;
 * the HNS indexer reading 200 registered nodes from block 0 beside the same eth_getLogs calls alone; and a node's
 * boot after 200 others registered beside a boot on an empty chain.
 */
import { type Hex, toHex } from "viem";
import { Node } from "../../runtime/boot.ts";
import { registerTestName, startChain } from "../../runtime/testing.ts";
import { HnsIndexer, MINT_TOPIC, NOTE_TOPIC } from "../../chain/indexer.ts";
import { HNS_NOTE_HASHES, HYPERMAP } from "../../chain/hypermap.ts";
import { DEV_ACCOUNT } from "../../chain/deploy.ts";
import { median, type Row } from "./util.ts";

const NODES = 200;

async function bootMs(port: number, name: string): Promise<number> {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-cbench-" });
  const t = performance.now();
  const n = await Node.boot({ home, name, port: 0, write: () => {}, network: { chainPort: port } });
  const ms = performance.now() - t;
  await n.shutdown();
  await Deno.remove(home, { recursive: true });
  return ms;
}

export async function chainBench(): Promise<Row[]> {
  const chain = await startChain();
  const c = chain.client;
  const rows: Row[] = [];
  try {
    const emptyBoot = [await bootMs(chain.port, "warm.dev"), await bootMs(chain.port, "empty.dev")];
    const reg: number[] = [], transfer: number[] = [];
    for (let i = 0; i < NODES; i++) {
      let t = performance.now();
      await registerTestName(c, {
        name: `n${i}.dev`,
        publicKey: crypto.getRandomValues(new Uint8Array(32)),
        ips: ["127.0.0.1"],
        ports: { tcp: 10_000 + i, ws: 20_000 + i },
        routers: [],
      });
      reg.push(performance.now() - t);
      if (i % 10 === 0) {
        t = performance.now();
        const hash = await c.request("eth_sendTransaction", [{ from: DEV_ACCOUNT, to: DEV_ACCOUNT, value: "0x1" }]);
        while (!(await c.request("eth_getTransactionReceipt", [hash as Hex]))) { /* mined at once */ }
        transfer.push(performance.now() - t);
      }
    }
    rows.push({
      name: "registration: Mint + 4 notes in one transaction, signed, to its receipt (median of 200)",
      ours: `${median(reg).toFixed(1)} ms`,
      baseline: `${median(transfer).toFixed(1)} ms a bare transfer to its receipt`,
      ratio: median(reg) / median(transfer),
      target: "report",
      pass: true,
    });

    const idx: number[] = [], raw: number[] = [];
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      let heard = 0;
      const ix = new HnsIndexer({ chain: c, stateFile: null, onUpdate: () => heard++, log: () => {} });
      await ix.start();
      await ix.stop();
      if (heard < NODES) throw new Error(`the indexer heard ${heard} of ${NODES}`);
      idx.push(performance.now() - t);
      t = performance.now();
      const range = { address: HYPERMAP, fromBlock: "0x0", toBlock: toHex(Number(await c.request("eth_blockNumber"))) };
      await Promise.all([
        c.request("eth_getLogs", [{ ...range, topics: [MINT_TOPIC] }]),
        c.request("eth_getLogs", [{ ...range, topics: [NOTE_TOPIC, null, null, HNS_NOTE_HASHES] }]),
      ]);
      raw.push(performance.now() - t);
    }
    rows.push({
      name: `hns-indexer: ${NODES} nodes (${NODES * 5} logs) from block 0 to identities (median of 3)`,
      ours: `${median(idx).toFixed(0)} ms`,
      baseline: `${median(raw).toFixed(0)} ms the two eth_getLogs alone`,
      ratio: median(idx) / median(raw),
      target: "report",
      pass: true,
    });
    const late = [await bootMs(chain.port, "late.dev"), await bootMs(chain.port, "late2.dev")];
    rows.push({
      name: `node boot after ${NODES} registered, knowing them all when boot returns (median of 2)`,
      ours: `${median(late).toFixed(0)} ms`,
      baseline: `${median(emptyBoot).toFixed(0)} ms a boot on an empty chain`,
      ratio: median(late) / median(emptyBoot),
      target: "report",
      pass: true,
    });
  } finally {
    await chain.stop();
  }
  return rows;
}

if (import.meta.main) {
  const { printRows } = await import("./util.ts");
  printRows("chain", await chainBench());
  Deno.exit(0);
}
