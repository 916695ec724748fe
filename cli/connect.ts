/**
 * `connect`: an SSH tunnel from a local port to a node on another machine,
 * so every other command reaches it with -p LOCAL_PORT, as `kit connect`.
 * The tunnel's ssh process id is kept in /tmp/hyperdeno-connect-<port>.pid
 * for `connect <port> --disconnect`.
 */
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";

export const spec: CommandSpec = {
  name: "connect",
  summary: "Connect (or disconnect) a ssh tunnel to a remote server",
  usage: "hyperdeno connect [OPTIONS] [LOCAL_PORT]",
  positionals: [{ name: "[LOCAL_PORT]", help: "Local port to bind", default: "9090" }],
  flags: [
    {
      long: "disconnect",
      short: "d",
      bool: true,
      help: "If set, disconnect an existing tunnel [default: connect a new tunnel]",
    },
    { long: "host", short: "o", value: "HOST", help: "Host URL/IP node is running on (not required for disconnect)" },
    { long: "port", short: "p", default: "8080", value: "HOST_PORT", help: "Remote (host) port node is running on" },
  ],
};

const pidFile = (port: number) => `/tmp/hyperdeno-connect-${port}.pid`;

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const local = portFlag(positionals[0], "LOCAL_PORT");
  if (flags.disconnect) {
    let pid: number;
    try {
      pid = Number(Deno.readTextFileSync(pidFile(local)).trim());
    } catch {
      throw new UsageError(`no tunnel on local port ${local} (none was made with \`hyperdeno connect ${local}\`)`);
    }
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* already gone */ }
    Deno.removeSync(pidFile(local));
    console.log(`disconnected the tunnel on local port ${local}`);
    return 0;
  }
  if (!flags.host) throw new UsageError("--host is needed: the SSH address of the machine running the node");
  const remote = portFlag(flags.port);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("ssh", {
      args: ["-N", "-o", "ExitOnForwardFailure=yes", "-L", `${local}:localhost:${remote}`, String(flags.host)],
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    throw new UsageError(`could not run ssh (${(e as Error).message}): install an OpenSSH client`);
  }
  Deno.writeTextFileSync(pidFile(local), String(child.pid));
  console.log(
    `tunnel: localhost:${local} -> ${flags.host}:${remote}; use -p ${local} with other commands; Ctrl-C or \`hyperdeno connect ${local} --disconnect\` ends it`,
  );
  const status = await child.status;
  try {
    Deno.removeSync(pidFile(local));
  } catch { /* removed by --disconnect */ }
  if (!status.success && status.signal === null) {
    console.error(`connect: ssh to ${flags.host} ended with code ${status.code}`);
    return 1;
  }
  return 0;
}
