/** `boot-fake-node`: boots a development node, as `kit boot-fake-node` does. */
import { Node } from "../runtime/boot.ts";
import { SANDBOX_MODES } from "../runtime/kernel/sandbox.ts";
import { POOL_HOSTS } from "../runtime/kernel/host_pool.ts";
import { type CommandSpec, hostsFlag, parseFlags, portFlag, UsageError } from "./flags.ts";
import { fakeNodeName, readyText } from "./first_run.ts";
import { stoppingText } from "./stopping.ts";
import { checkHyperdriveVersion, hyperdriveVersionFlag } from "./hyperdrive_version.ts";
import { encodeIp } from "../chain/hypermap.ts";

export const spec: CommandSpec = {
  name: "boot-fake-node",
  summary: "Boot a fake node for development (terminal on stdin; Ctrl-C or Ctrl-D to stop)",
  usage: "hyperdeno boot-fake-node [OPTIONS]",
  positionals: [],
  flags: [
    { long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "The port to run the fake node on" },
    {
      long: "home",
      short: "o",
      default: "/tmp/hyperware-fake-node",
      value: "HOME",
      help: "Path to home directory for fake node",
    },
    {
      long: "fake-node-name",
      short: "f",
      default: "fake.dev",
      value: "NODE_NAME",
      help: "Name for fake node (a name without a dot gets .dev)",
    },
    {
      long: "fakechain-port",
      short: "c",
      default: "8545",
      value: "FAKECHAIN_PORT",
      help: "The port of the local dev chain (anvil with Hypermap; started here if none answers)",
    },
    {
      long: "rpc",
      value: "RPC_URL",
      help: "Any EVM JSON-RPC endpoint (http(s):// or ws(s)://) to read identities from instead of the local chain",
    },
    { long: "persist", bool: true, help: "If set, do not delete node home after exit" },
    { long: "app-store", bool: true, help: "Install the App Store (app-store:sys), as a real node has it" },
    { long: "password", default: "secret", value: "PASSWORD", help: "Password to login" },
    { long: "verbosity", default: "0", value: "VERBOSITY", help: "Verbosity of node: higher is more verbose (0-3)" },
    { long: "label", value: "LABEL", help: "Prefix every printed line (used by fake-net)" },
    { long: "tcp-port", default: "0", value: "PORT", help: "Port for TCP links (0: any free port)" },
    { long: "ws-port", default: "0", value: "PORT", help: "Port for WebSocket links (0: any free port)" },
    { long: "routers", value: "NODES", help: "Comma-separated routers: boot an indirect node reachable through them" },
    {
      long: "ip",
      default: "127.0.0.1",
      value: "IP",
      help: "The address this node listens on for links and publishes on chain as its ~ip (direct nodes)",
    },
    {
      long: "sandbox",
      default: "processes",
      value: "MODE",
      help:
        "processes: each package (but the distro) runs in a child process the node can always stop; threads: every package runs in threads of the node",
    },
    {
      long: "hosts",
      value: "N",
      help:
        `With --sandbox processes: how many process hosts the packages share (default ${POOL_HOSTS}), or package for a host each`,
    },
    {
      long: "runtime-path",
      short: "r",
      value: "PATH",
      refused: "the node is this hyperdeno: to run another checkout, use its main.ts (deno task node there)",
    },
    hyperdriveVersionFlag("node"),
    { long: "release", bool: true, refused: "there is nothing to compile: the node runs from its TypeScript" },
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  checkHyperdriveVersion(flags.version, "node");
  const verbosity = Number(flags.verbosity);
  if (!Number.isInteger(verbosity) || verbosity < 0 || verbosity > 3) {
    throw new UsageError("--verbosity must be 0, 1, 2 or 3");
  }
  const sandbox = SANDBOX_MODES.find((m) => m === flags.sandbox);
  if (!sandbox) throw new UsageError("--sandbox must be threads or processes");
  const home = String(flags.home);
  const persist = Boolean(flags.persist);
  let node: Node | null = null;
  let stopping = false;
  const stop = async (code = 0) => {
    if (stopping) return;
    stopping = true;
    if (node) node.terminal.print(0, stoppingText(node.name, home, persist));
    await node?.shutdown();
    if (!persist) await Deno.remove(home, { recursive: true }).catch(() => {});
    Deno.exit(code);
  };
  node = await Node.boot({
    home,
    name: fakeNodeName(String(flags["fake-node-name"])),
    port,
    password: String(flags.password),
    verbosity,
    stdin: true,
    sandbox,
    hosts: hostsFlag(flags.hosts),
    label: flags.label ? String(flags.label) : undefined,
    onExit: () => stop(0),
    appStore: Boolean(flags["app-store"]),
    network: {
      chainPort: portFlag(flags["fakechain-port"], "--fakechain-port"),
      rpc: flags.rpc ? rpcFlag(String(flags.rpc)) : undefined,
      tcpPort: portFlag(flags["tcp-port"], "--tcp-port"),
      wsPort: portFlag(flags["ws-port"], "--ws-port"),
      routers: flags.routers ? String(flags.routers).split(",").map((r) => r.trim()).filter(Boolean) : [],
      ip: ipFlag(String(flags.ip)),
    },
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => stop(0));
  node.terminal.print(0, readyText(node, { home, persist, password: String(flags.password) }));
  await node.runTerminal();
  // stdin closed (a pipe ended): keep serving until a signal stops the node.
  await new Promise(() => {});
  return 0;
}

/** An address the ~ip note can hold (IPv4 or IPv6). */
function ipFlag(ip: string): string {
  try {
    encodeIp(ip);
  } catch {
    throw new UsageError(`--ip must be an IPv4 or IPv6 address such as 10.0.0.2: ${ip}`);
  }
  return ip;
}

function rpcFlag(url: string): string {
  if (!/^(https?|wss?):\/\/[^\s]+$/.test(url)) {
    throw new UsageError(`--rpc must be an http(s):// or ws(s):// URL: ${url}`);
  }
  return url;
}
