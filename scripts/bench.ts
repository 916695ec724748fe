/**
 * `deno task bench [kernel] [storage] [network] [http] [httpc] [chain] [transfer] [many] [apps]`: every benchmark prints hyperdeno beside a
 * baseline measured in the same run, and their ratio.
 */
import { kernelBench } from "./bench/kernel.ts";
import { storageBench } from "./bench/storage.ts";
import { networkBench } from "./bench/network.ts";
import { httpcBench } from "./bench/httpc.ts";
import { httpBench } from "./bench/http.ts";
import { chainBench } from "./bench/chain.ts";
import { transferBench } from "./bench/transfer.ts";
import { transferManyBench } from "./bench/transfer_many.ts";
import { appsBench } from "./bench/apps.ts";
import { printRows } from "./bench/util.ts";

const SUITES: Record<string, () => Promise<ReturnType<typeof kernelBench> extends Promise<infer R> ? R : never>> = {
  kernel: kernelBench,
  storage: storageBench,
  network: networkBench,
  httpc: httpcBench,
  http: httpBench,
  chain: chainBench,
  transfer: transferBench,
  many: transferManyBench,
  apps: appsBench,
};

const wanted = Deno.args.length ? Deno.args : Object.keys(SUITES);
console.log(
  `hyperdeno benchmarks — ${
    new Date().toISOString()
  } — deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`,
);
for (const name of wanted) {
  const suite = SUITES[name];
  if (!suite) {
    console.error(`unknown suite "${name}"; choose from ${Object.keys(SUITES).join(", ")}`);
    Deno.exit(2);
  }
  printRows(name, await suite());
}
Deno.exit(0);
