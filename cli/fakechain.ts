/** `fakechain`: runs the local identity registry on its own (as `kit chain`). */
import { FakeChain } from "../fakechain/server.ts";
import { type CommandSpec, parseFlags, portFlag } from "./flags.ts";

export const spec: CommandSpec = {
  name: "fakechain",
  summary: "Run a fake chain: the local identity registry that fake nodes register with",
  usage: "deno task fakechain [OPTIONS]",
  positionals: [],
  flags: [
    { long: "port", short: "p", default: "8545", value: "PORT", help: "Port to serve the registry on" },
    {
      long: "data",
      value: "FILE",
      help: "Where registrations are kept across restarts (default /tmp/hyperdeno-fakechain-PORT.jsonl)",
    },
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(spec, argv);
  const wanted = portFlag(flags.port);
  const dataFile = flags.data ? String(flags.data) : `/tmp/hyperdeno-fakechain-${wanted}.jsonl`;
  const chain = new FakeChain({ dataFile, log: console.log });
  const port = await chain.listen(wanted);
  console.log(
    `fake chain listening on http://127.0.0.1:${port} (GET /nodes, GET /watch, POST /register); ${chain.list().nodes.length} names kept in ${dataFile} (remove it for an empty registry); Ctrl-C to stop`,
  );
  const done = Promise.withResolvers<void>();
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => done.resolve());
  await done.promise;
  await chain.close();
  return 0;
}
