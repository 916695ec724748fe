/**
 * `fake-net`: a dev chain (anvil with Hypermap) and two fake nodes (fake.dev on 8080, fake2.dev on
 * 8081), as `kit boot-fake-node` twice would, in one terminal. Output is
 * labelled by node. A line goes to the node last named with `@name`
 * (`@fake2.dev hi fake.dev hello!`, or `@fake2.dev` alone to switch).
 *
 * The nodes' homes are <home>/fake.dev and <home>/fake2.dev, under a new temporary folder unless --home says
 * where, so they never land on a node already running. Before it boots anything, fake-net checks what would make
 * a node refuse (a busy port, a name held by a running node on the chain) and says which of its flags avoids it.
 *
 * A node that dies (a crash, a kill while testing a transfer's resume) leaves
 * the other running and its home in place: `@name restart` starts it again on
 * that home. fake-net ends when every node has ended, or on Ctrl-C.
 */
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { ensureLocalChain } from "../chain/network.ts";
import { ChainClient } from "../chain/client.ts";
import { deployHypermap, exists, getEntry } from "../chain/deploy.ts";
import { localRpc } from "../chain/anvil.ts";
import { namehash } from "../chain/hypermap.ts";
import { readHeld } from "../chain/register.ts";
import { holderRunning } from "../chain/network.ts";
import { RUN_ARGS } from "./run_args.ts";
import { NameHeld, PortInUse } from "../runtime/errors.ts";

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
    {
      long: "home",
      short: "o",
      value: "DIR",
      help: "Folder for the nodes' homes (DIR/fake.dev, DIR/fake2.dev) [default: a new temporary folder]",
    },
    { long: "persist", bool: true, help: "Keep the nodes' homes after exit" },
    { long: "app-store", bool: true, help: "Give both nodes the App Store (app-store:sys)" },
    { long: "verbosity", default: "0", value: "VERBOSITY", help: "Verbosity of both nodes (0-3)" },
  ],
};

interface Child {
  name: string;
  proc: Deno.ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  /** Starts this node again on its home (it replaces this entry). */
  restart: () => void;
  ended?: boolean;
}

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  const chainPort = portFlag(flags["fakechain-port"], "--fakechain-port");
  const names = ["fake.dev", "fake2.dev"];
  for (const [i, name] of names.entries()) {
    if (!portFree(port + i)) {
      throw new PortInUse(`port ${port + i} (for ${name}) is in use: is another node running? Pick others with -p`);
    }
  }
  // As kit does: use the chain already on the port, or start one (it stops with fake-net).
  const chain = await ensureLocalChain(chainPort);
  console.log(chain ? `dev chain started on port ${chainPort}` : `using the chain already on port ${chainPort}`);
  const client = new ChainClient(localRpc(chainPort));
  try {
    try {
      await deployHypermap(client);
    } catch (e) {
      throw new UsageError(
        `port ${chainPort} does not take Hypermap (${(e as Error).message.split("\n")[0]}): pick another with -c`,
      );
    }
    for (const name of names) {
      const running = await runningHolder(client, name);
      if (running) {
        throw new NameHeld(
          `${name} is held by a running node (${running}) on the chain at port ${chainPort}: stop it, or run fake-net on a chain of its own with -c ${
            chainPort + 1
          }`,
        );
      }
    }
  } catch (e) {
    await client.close();
    await chain?.stop();
    throw e;
  }
  await client.close();
  const made = !flags.home;
  const root = flags.home
    ? String(flags.home).replace(/\/+$/, "")
    : await Deno.makeTempDir({ prefix: "hyperdeno-fake-net-" });
  if (flags.persist) console.log(`homes under ${root}: \`fake-net --home ${root} --persist\` boots them again`);
  const nodes = names.map((name, i) => [name, port + i, `${root}/${name}`] as const);
  const children = new Map<string, Child>();
  const enc = new TextEncoder();
  let stopping = false;
  const launch = (name: string, p: number, home: string) => {
    const args = [...RUN_ARGS, "boot-fake-node", "-f", name, "-p", String(p), "-o", home, "-c", String(chainPort)];
    args.push("--label", `[${name}]`, "--verbosity", String(flags.verbosity));
    if (flags.persist) args.push("--persist");
    if (flags["app-store"]) args.push("--app-store");
    const proc = new Deno.Command(Deno.execPath(), { args, stdin: "piped", stdout: "inherit", stderr: "inherit" })
      .spawn();
    const child: Child = { name, proc, stdin: proc.stdin.getWriter(), restart: () => launch(name, p, home) };
    children.set(name, child);
    proc.status.then((st) => {
      child.ended = true;
      if (stopping) return;
      if ([...children.values()].every((c) => c.ended)) return void stop();
      const how = st.signal ? `was killed (${st.signal})` : `exited with code ${st.code}`;
      console.log(`[${name}] the node ${how}; the others run on. "@${name} restart" starts it again on ${home}`);
    });
  };
  for (const [name, p, home] of nodes) launch(name, p, home);
  let current = children.get(nodes[0][0])!;
  console.log(
    `type a command for ${current.name}; "@fake2.dev <command>" sends one to fake2.dev, "@fake2.dev" alone switches`,
  );
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    for (const c of children.values()) {
      try {
        c.proc.kill("SIGINT");
      } catch { /* gone */ }
    }
    await Promise.all([...children.values()].map((c) => c.proc.status));
    await chain?.stop();
    // Each node removed its own home (unless --persist); the folder made for them goes too.
    if (made && !flags.persist) await Deno.remove(root, { recursive: true }).catch(() => {});
    Deno.exit(0);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, stop);
  /** Sends `line` to `c`'s terminal; a node that has ended is restarted by "restart", and says so otherwise. */
  const send = async (c: Child, line: string) => {
    if (c.ended) {
      if (line === "restart") {
        c.restart();
        console.log(`starting ${c.name} again`);
      } else console.log(`${c.name} is not running: "@${c.name} restart" starts it again`);
      return;
    }
    await c.stdin.write(enc.encode(line + "\n")).catch(() => console.log(`${c.name} did not take the line`));
  };
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
        const target = children.get(m[1]);
        if (!target) {
          console.log(`no node ${m[1]} here: ${[...children.keys()].join(", ")}`);
          continue;
        }
        if (!m[2]) {
          current = target;
          console.log(`commands now go to ${current.name}`);
          continue;
        }
        line = m[2];
        await send(children.get(target.name)!, line);
        continue;
      }
      if (line) await send(children.get(current.name)!, line);
    }
  }
  await new Promise(() => {});
  return 0;
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** What a running node holding `name` on the chain proves of itself, or null. */
async function runningHolder(client: ChainClient, name: string): Promise<string | null> {
  const [tba, owner] = await getEntry(client, namehash(name));
  if (!exists([tba, owner, "0x"])) return null;
  return holderRunning(await readHeld(client, name, owner));
}
