/**
 * `fake-net`: a dev chain (anvil with Hypermap) and two fake nodes (fake.dev on 8080, fake2.dev on
 * 8081), as `kit boot-fake-node` twice would, in one terminal. Output is
 * labelled by node. A line goes to the node last named with `@name`
 * (`@fake2.dev hi fake.dev hello!`, or `@fake2.dev` alone to switch).
 */
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { ensureLocalChain } from "../chain/network.ts";
import { ChainClient } from "../chain/client.ts";
import { deployHypermap } from "../chain/deploy.ts";
import { localRpc } from "../chain/anvil.ts";
import { RUN_ARGS } from "./run_args.ts";

export const spec: CommandSpec = {
  name: "fake-net",
  summary: "Run a dev chain and two fake nodes, fake.dev (8080) and fake2.dev (8081), in one terminal",
  usage: "deno task fake-net [OPTIONS]",
  positionals: [],
  flags: [
    {
      long: "port",
      short: "p",
      default: "8080",
      value: "PORT",
      help: "HTTP port of fake.dev; fake2.dev gets the next one",
    },
    { long: "fakechain-port", short: "c", default: "8545", value: "PORT", help: "Port of the dev chain" },
    { long: "persist", bool: true, help: "Keep the nodes' homes after exit" },
    { long: "verbosity", default: "0", value: "VERBOSITY", help: "Verbosity of both nodes (0-3)" },
  ],
};

interface Child {
  name: string;
  proc: Deno.ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
}

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  const chainPort = portFlag(flags["fakechain-port"], "--fakechain-port");
  // As kit does: use the chain already on the port, or start one (it stops with fake-net).
  const chain = await ensureLocalChain(chainPort);
  console.log(chain ? `dev chain started on port ${chainPort}` : `using the chain already on port ${chainPort}`);
  try {
    await deployHypermap(new ChainClient(localRpc(chainPort)));
  } catch (e) {
    await chain?.stop();
    throw new UsageError(
      `port ${chainPort} does not take Hypermap (${(e as Error).message.split("\n")[0]}): pick another with -c`,
    );
  }
  const nodes = [["fake.dev", port, "/tmp/hyperdeno-fake-node-1"], [
    "fake2.dev",
    port + 1,
    "/tmp/hyperdeno-fake-node-2",
  ]] as const;
  const children: Child[] = [];
  const enc = new TextEncoder();
  for (const [name, p, home] of nodes) {
    const args = [...RUN_ARGS, "boot-fake-node", "-f", name, "-p", String(p), "-o", home, "-c", String(chainPort)];
    args.push("--label", `[${name}]`, "--verbosity", String(flags.verbosity));
    if (flags.persist) args.push("--persist");
    const proc = new Deno.Command(Deno.execPath(), { args, stdin: "piped", stdout: "inherit", stderr: "inherit" })
      .spawn();
    children.push({ name, proc, stdin: proc.stdin.getWriter() });
  }
  let current = children[0];
  console.log(
    `type a command for ${current.name}; "@fake2.dev <command>" sends one to fake2.dev, "@fake2.dev" alone switches`,
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) {
      try {
        c.proc.kill("SIGINT");
      } catch { /* gone */ }
    }
    await Promise.all(children.map((c) => c.proc.status));
    await chain?.stop();
    Deno.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, stop);
  for (const c of children) c.proc.status.then(() => stop());
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of Deno.stdin.readable) {
    buf += dec.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      let line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      const m = line.match(/^@(\S+)\s*(.*)$/);
      if (m) {
        const target = children.find((c) => c.name === m[1]);
        if (!target) {
          console.log(`no node ${m[1]} here: ${children.map((c) => c.name).join(", ")}`);
          continue;
        }
        if (!m[2]) {
          current = target;
          console.log(`commands now go to ${current.name}`);
          continue;
        }
        line = m[2];
        await target.stdin.write(enc.encode(line + "\n"));
        continue;
      }
      if (line) await current.stdin.write(enc.encode(line + "\n"));
    }
  }
  await new Promise(() => {});
  return 0;
}
