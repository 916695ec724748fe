/**
 * `chain`: the local dev chain on its own, as `kit chain`: anvil on 127.0.0.1:PORT with the reference's Hypermap
 * deployment (and the os and dev parents) on it. Nodes booted later register on it, and so do Hyperdrive's fake
 * nodes; it keeps running until Ctrl-C.
 */
import { Anvil, chainAnswers, localRpc } from "../chain/anvil.ts";
import { ChainClient } from "../chain/client.ts";
import { deployHypermap } from "../chain/deploy.ts";
import { DOT_OS_TBA, HYPERMAP } from "../chain/hypermap.ts";
import { type CommandSpec, parseFlags, portFlag } from "./flags.ts";

export const spec: CommandSpec = {
  name: "chain",
  summary: "Run the local dev chain (anvil with the reference's Hypermap deployment) that fake nodes register on",
  usage: "deno task chain [OPTIONS]",
  positionals: [],
  flags: [
    { long: "port", short: "p", default: "8545", value: "PORT", help: "Port to run the chain on" },
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  let anvil: Anvil | null = null;
  if (await chainAnswers(localRpc(port))) console.log(`a chain already answers on port ${port}; using it`);
  else anvil = await Anvil.start(port);
  const client = new ChainClient(localRpc(port));
  await deployHypermap(client);
  console.log(
    `dev chain on ${localRpc(port)} (chain id ${await client
      .chainId()}); Hypermap at ${HYPERMAP} with os (account ${DOT_OS_TBA}) and dev${anvil ? "; Ctrl-C to stop" : ""}`,
  );
  if (!anvil) return 0;
  const done = Promise.withResolvers<void>();
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => done.resolve());
  await done.promise;
  await anvil.stop();
  return 0;
}
