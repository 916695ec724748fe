/**
 * `boot-real-node`: a node of the real network, as `kit boot-real-node` boots one (and `hyperdeno <home>`, as the
 * Hyperdrive binary is started). A home without an identity serves the registration pages ("login or register at
 * http://localhost:PORT"); a home with one boots with --password, or serves its login page.
 */
import { bootRealNode } from "../register/real_node.ts";
import type { Node } from "../runtime/boot.ts";
import { SANDBOX_MODES } from "../runtime/kernel/sandbox.ts";
import { POOL_HOSTS } from "../runtime/kernel/host_pool.ts";
import { type CommandSpec, hostsFlag, parseFlags, portFlag, UsageError } from "./flags.ts";

/** Hyperdrive's fallback Base RPC, used when no --rpc is given (the reference's register.rs). */
export const DEFAULT_RPC = "wss://base-rpc.publicnode.com";

export const spec: CommandSpec = {
  name: "boot-real-node",
  summary: "Boot a real node: register a name in the browser, or boot the node a home holds",
  usage: "hyperdeno boot-real-node --home <HOME> [OPTIONS]   (or: hyperdeno <HOME> [OPTIONS])",
  positionals: [],
  flags: [
    { long: "home", short: "o", value: "HOME", help: "Path to home directory for real node (required)" },
    { long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "The port to run the real node on" },
    {
      long: "rpc",
      value: "RPC_ENDPOINT",
      help: `Ethereum RPC endpoint (http(s):// or ws(s)://) of the chain with Hypermap [default: ${DEFAULT_RPC}]`,
    },
    { long: "password", value: "PASSWORD", help: "The node's password: boot a home's node without its login page" },
    { long: "verbosity", default: "0", value: "VERBOSITY", help: "Verbosity of node: higher is more verbose (0-3)" },
    { long: "tcp-port", default: "0", value: "PORT", help: "Port for TCP links of a direct node (0: a free port)" },
    {
      long: "ws-port",
      default: "0",
      value: "PORT",
      help: "Port for WebSocket links of a direct node (0: a free port)",
    },
    {
      long: "sandbox",
      default: "processes",
      value: "MODE",
      help: "processes: each package (but the distro) runs in a child process; threads: in threads of the node",
    },
    {
      long: "hosts",
      value: "N",
      help:
        `With --sandbox processes: how many process hosts the packages share (default ${POOL_HOSTS}), or package for a host each`,
    },
    {
      long: "detached",
      short: "d",
      bool: true,
      help: "Run in detached mode (don't accept input)",
    },
    {
      long: "runtime-path",
      short: "r",
      value: "PATH",
      refused: "the node is this hyperdeno: to run another checkout, use its main.ts",
    },
    {
      long: "version",
      short: "v",
      value: "VERSION",
      refused: "the node is this hyperdeno (hyperdeno --version says which)",
    },
    { long: "release", bool: true, refused: "there is nothing to compile: the node runs from its TypeScript" },
  ],
};

export async function run(argv: string[], home?: string): Promise<number> {
  const { flags } = parseFlags(spec, argv);
  const where = home ?? (flags.home ? String(flags.home) : "");
  if (!where) throw new UsageError("--home is required (where the node keeps its files)");
  const verbosity = Number(flags.verbosity);
  if (!Number.isInteger(verbosity) || verbosity < 0 || verbosity > 3) {
    throw new UsageError("--verbosity must be 0, 1, 2 or 3");
  }
  const sandbox = SANDBOX_MODES.find((m) => m === flags.sandbox);
  if (!sandbox) throw new UsageError("--sandbox must be threads or processes");
  const rpc = flags.rpc ? String(flags.rpc) : DEFAULT_RPC;
  if (!/^(https?|wss?):\/\/[^\s]+$/.test(rpc)) {
    throw new UsageError(`--rpc must be an http(s):// or ws(s):// URL: ${rpc}`);
  }
  let node: Node | null = null;
  const stop = async (code = 0) => {
    await node?.shutdown();
    Deno.exit(code);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => stop(0));
  const stdin = !flags.detached;
  node = await bootRealNode({
    home: where,
    port: portFlag(flags.port),
    rpc,
    password: flags.password === undefined ? undefined : String(flags.password),
    verbosity,
    stdin,
    sandbox,
    hosts: hostsFlag(flags.hosts),
    tcpPort: portFlag(flags["tcp-port"], "--tcp-port"),
    wsPort: portFlag(flags["ws-port"], "--ws-port"),
    onExit: () => stop(0),
  });
  if (stdin) await node.runTerminal();
  await new Promise(() => {});
  return 0;
}
