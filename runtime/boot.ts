/**
 * Booting a node: its home directory, the kernel and runtime modules, the
 * distro packages (built if stale, installed on first boot or when they
 * changed), the persisted processes, and the HTTP listener.
 */
import { KernelCommands } from "./kernel/commands.ts";
import { Kernel } from "./kernel/kernel.ts";
import { SANDBOX_MODES, type SandboxMode } from "./kernel/sandbox.ts";
import { readJsonSync, removeStaleTemps, writeFileAtomicSync } from "./kernel/persist.ts";
import { buildPackage, processDirs } from "./packages/build.ts";
import {
  finishInstalls,
  installDurably,
  installPackage,
  type InstallResult,
  readPkgDir,
  recoverPkgDrives,
} from "./packages/install.ts";
import { HttpServerModule } from "../modules/http_server/mod.ts";
import { HttpClientModule } from "../modules/http_client/mod.ts";
import { TerminalModule } from "../modules/terminal/mod.ts";
import { TimerModule } from "../modules/timer/mod.ts";
import { StateModule } from "../modules/state/mod.ts";
import { VfsModule } from "../modules/vfs/mod.ts";
import { KvModule } from "../modules/kv/mod.ts";
import { SqliteModule } from "../modules/sqlite/mod.ts";
import { isSafeNode, ParseError } from "./types.ts";
import { loadOrCreateKeys } from "./keys.ts";
import { NetModule } from "../modules/net/mod.ts";
import { EthModule } from "../modules/eth/mod.ts";
import { type ChainLink, type ChainOptions, joinChain } from "../chain/network.ts";
import { publishAsNode } from "../chain/app_publish.ts";
import { devOwnerKey } from "../chain/dev_owner.ts";
import { DEV_CHAIN_ID } from "../chain/hypermap.ts";
import { HomeInUse, PortInUse } from "./errors.ts";
import { settleHeap } from "./kernel/heap_pacer.ts";
import { exists as anythingAt, isFile as exists } from "./fs.ts";

const PACKAGES_DIR = new URL("../packages/", import.meta.url).pathname;
/** Packages every node carries, installed on first boot. */
export const DISTRO_PACKAGES = ["terminal"];
/**
 * The App Store (app-store:sys), a distro package for the nodes that ask for it (NodeOptions.appStore): real nodes
 * always, fake nodes with `--app-store`. Not on every node: measured on a dev-chain fake node (2026-12-07, a machine
 * at load 28) it adds ~50 MiB RSS (125 → 172-178 MiB), 0.3-0.5 CPU-s to a boot and ~1% of a core while idle (its
 * chain process reads the chain's head every second), which the suite's hundreds of node boots would pay.
 */
export const APP_STORE = "app-store";

export interface NodeOptions {
  home: string;
  name: string;
  port: number;
  password?: string;
  verbosity?: number;
  /** Read terminal commands from stdin. */
  stdin?: boolean;
  /** Prefix for printed lines (fake-net labels nodes). */
  label?: string;
  /** Where printed lines go; stdout by default. */
  write?: (line: string) => void;
  /** The heap limit of each process, in MiB (default 512). */
  processHeapMb?: number;
  /**
   * Where processes run: `processes` (default), a child OS process per package that the kernel can end when a
   * thread is stuck (distro packages run as threads of the node); or `threads` of the node itself, for every
   * package. HYPERDENO_SANDBOX sets the default (for benchmarks).
   */
  sandbox?: SandboxMode;
  /**
   * How many process hosts packages share (`processes`; default POOL_HOSTS); 0: a host per package.
   * HYPERDENO_HOSTS sets the default (a number, or `package` for 0).
   */
  hosts?: number;
  onExit?: () => void;
  /** Networking; without it the node is alone and remote messages fail Offline. */
  network?: NetworkOptions;
  /** Install the App Store with the distro packages (APP_STORE). */
  appStore?: boolean;
}

/** chainPort (the local dev chain, started here if none answers) or rpc (any chain), and the indexer's pace. */
export interface NetworkOptions extends ChainOptions {
  tcpPort?: number;
  wsPort?: number;
  /** Make this an indirect node, reachable through these routers. */
  routers?: string[];
  /** The address a direct node listens on and publishes as its ~ip (default 127.0.0.1). */
  ip?: string;
  /** Close links idle this long (default 30 minutes). */
  idleMs?: number;
  /** Transports to publish (default both, TCP first). */
  publish?: ("tcp" | "ws")[];
}

export class Node {
  readonly bootMs: number;
  private constructor(
    readonly opts: NodeOptions,
    readonly kernel: Kernel,
    readonly terminal: TerminalModule,
    readonly http: HttpServerModule,
    readonly vfs: VfsModule,
    readonly commands: KernelCommands,
    started: number,
    readonly net: NetModule | null,
    readonly chain: ChainLink | null,
    private homeLock: Deno.FsFile,
  ) {
    this.bootMs = performance.now() - started;
  }

  get name(): string {
    return this.kernel.our;
  }
  get port(): number {
    return this.http.port;
  }

  static async boot(opts: NodeOptions): Promise<Node> {
    const started = performance.now();
    if (!isSafeNode(opts.name)) throw new ParseError(`bad node name "${opts.name}": use a-z, 0-9, - and .`);
    const home = opts.home.replace(/\/+$/, "");
    // A boot refused for any reason (a busy port, a name held, ...) leaves no home it made: none to be mistaken
    // later for a node's. A home that was there is someone's, and is left as it was.
    const made = !anythingAt(home);
    Deno.mkdirSync(`${home}/kernel`, { recursive: true });
    const homeLock = lockHome(home);
    try {
      return await Node.bootLocked(opts, home, homeLock, started);
    } catch (e) {
      homeLock.close();
      if (made) {
        try {
          Deno.removeSync(home, { recursive: true });
        } catch { /* gone already */ }
      }
      throw e;
    }
  }

  /** The boot proper, in a home this process holds the lock of. */
  private static async bootLocked(
    opts: NodeOptions,
    home: string,
    homeLock: Deno.FsFile,
    started: number,
  ): Promise<Node> {
    removeStaleTemps(`${home}/kernel`);
    claimHome(home, opts.name);

    let terminal: TerminalModule | null = null;
    const early: Parameters<Kernel["print"]>[] = [];
    const kernel = new Kernel({
      our: opts.name,
      home,
      print: (v, t, o) => terminal ? terminal.print(v, t, o) : early.push([v, t, o]),
      processHeapMb: opts.processHeapMb,
      sandbox: {
        mode: opts.sandbox ?? sandboxFromEnv(),
        inNode: distroOf(opts).map((p) => `${p}:sys`),
        hosts: opts.hosts ?? hostsFromEnv(),
      },
    });
    terminal = new TerminalModule(kernel, {
      verbosity: opts.verbosity ?? 0,
      label: opts.label,
      stdin: opts.stdin ?? false,
      write: opts.write,
      onExit: opts.onExit,
    });
    for (const [v, t, o] of early) terminal.print(v, t, o);
    const commands = new KernelCommands(kernel);
    const vfs = new VfsModule(kernel);
    // Answered once the package's process host is up (a node's first package starts one): `start-package` followed
    // at once by a request to the package finds it starting, not missing.
    const installAndWait = async (pkg: string, files: Record<string, Uint8Array>) => {
      const installed = await installDurably(kernel, pkg, files);
      await kernel.hostsReady();
      return installed;
    };
    const http = new HttpServerModule(kernel, installAndWait, {
      password: opts.password,
    });
    for (
      const m of [
        commands,
        new TimerModule(kernel),
        new StateModule(kernel, kernel.state),
        terminal,
        vfs,
        new KvModule(kernel),
        new SqliteModule(kernel),
        http,
        new HttpClientModule(kernel, { ownPorts: () => [http.port] }),
        http.homepage,
      ]
    ) {
      kernel.registerModule(m);
    }

    const interrupted = recoverPkgDrives(home);
    kernel.processes.load();
    await finishInstalls(kernel, interrupted);
    const firstBoot = kernel.processes.ids().length === 0;
    kernel.bootPersisted();
    await installDistro(kernel, firstBoot, distroOf(opts));

    let net: NetModule | null = null;
    let chain: ChainLink | null = null;
    try {
      await http.listen(opts.port);
      if (opts.network) {
        const keys = await loadOrCreateKeys(home, opts.password ?? "secret");
        net = new NetModule(kernel, {
          keys,
          tcpPort: opts.network.tcpPort ?? 0,
          wsPort: opts.network.wsPort ?? 0,
          routers: opts.network.routers ?? [],
          ip: opts.network.ip,
          idleMs: opts.network.idleMs ?? 30 * 60_000,
          publish: opts.network.publish ?? ["tcp", "ws"],
        });
        kernel.registerModule(net);
        chain = await joinChain(net, keys, opts.network, (v, t) => terminal!.print(v, t));
        kernel.registerModule(new EthModule(kernel, chain.chain, chain.chainId, opts.network.pollMs));
        if (chain.chainId === DEV_CHAIN_ID) {
          const link = chain.chain, ownerKey = devOwnerKey(keys.secretKey);
          http.devPublisher = (r) => publishAsNode(link, ownerKey, kernel.our, r);
        }
      }
    } catch (e) {
      await chain?.stop();
      await kernel.shutdown();
      if (e instanceof Deno.errors.AddrInUse) {
        throw new PortInUse(
          `port ${opts.port} (or a networking port) is in use: is another node running? Pick another with -p`,
        );
      }
      throw e;
    }
    // Started with the kernel, they are mostly up by now; a package installed next need not wait for one.
    await kernel.hostsReady();
    settleHeap();
    return new Node(opts, kernel, terminal, http, vfs, commands, started, net, chain, homeLock);
  }

  /** Starts reading terminal commands from stdin (when enabled). */
  runTerminal(): Promise<void> {
    return this.terminal.start();
  }

  install(packageId: string, files: Record<string, Uint8Array>): InstallResult {
    const result = installPackage(this.kernel, packageId, files);
    settleHeap();
    return result;
  }

  async shutdown() {
    const indexerStopped = this.chain?.indexer.stop();
    await this.kernel.shutdown();
    await indexerStopped;
    await this.chain?.stop();
    try {
      this.homeLock.close();
    } catch { /* closed */ }
  }
}

function sandboxFromEnv(): SandboxMode | undefined {
  try {
    const v = Deno.env.get("HYPERDENO_SANDBOX");
    return SANDBOX_MODES.find((m) => m === v);
  } catch {
    return undefined; // no env permission: the default
  }
}

function hostsFromEnv(): number | undefined {
  let v: string | undefined;
  try {
    v = Deno.env.get("HYPERDENO_HOSTS");
  } catch {
    return undefined; // no env permission: the default
  }
  if (v === "package") return 0;
  const n = Number(v);
  return v && Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/**
 * One running node per home: an exclusive lock on <home>/node.lock, held until shutdown (the OS lets go of it when
 * the process dies, so a crash never leaves a home locked). A second node on the same home is refused before it
 * touches anything, so it cannot delete the first one's home when it stops.
 */
function lockHome(home: string): Deno.FsFile {
  const path = `${home}/node.lock`;
  const f = Deno.openSync(path, { read: true, write: true, create: true });
  if (!f.tryLockSync(true)) {
    let pid = "";
    try {
      pid = new TextDecoder().decode(Deno.readFileSync(path)).trim();
    } catch { /* unreadable */ }
    f.close();
    throw new HomeInUse(
      `${home} is in use by another running node${
        pid ? ` (pid ${pid})` : ""
      }: stop it first, or boot this one with another --home`,
    );
  }
  f.truncateSync(0);
  f.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
  return f;
}

/** One node per home: a home that holds another node's identity is refused. */
function claimHome(home: string, name: string) {
  const path = `${home}/identity.json`;
  const id = readJsonSync<{ name?: string } | null>(path, null);
  if (id && id.name !== name) {
    throw new ParseError(`${home} holds node ${id.name}; boot it with -f ${id.name}, or pick another --home`);
  }
  if (!id) writeFileAtomicSync(path, new TextEncoder().encode(JSON.stringify({ name })));
}

function sameFiles(a: Record<string, Uint8Array>, b: Record<string, Uint8Array>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] && a[k].length === b[k].length && a[k].every((x, i) => x === b[k][i]));
}

/** The distro packages a node with these options carries. */
function distroOf(opts: NodeOptions): string[] {
  return opts.appStore ? [...DISTRO_PACKAGES, APP_STORE] : DISTRO_PACKAGES;
}

async function installDistro(kernel: Kernel, firstBoot: boolean, packages: string[]) {
  for (const name of packages) {
    const dir = `${PACKAGES_DIR}${name}`;
    let packageId: string;
    try {
      packageId = (await buildPackage(dir, { onlyIfStale: true })).packageId;
    } catch (e) {
      // A compiled hyperdeno carries its distro bundles prebuilt and may have no deno to rebuild them.
      const missing = processDirs(dir).filter((p) => !exists(`${dir}/pkg/${p.name}.js`));
      if (missing.length) throw e;
      packageId = `${name}:sys`;
      kernel.print(1, `boot: using prebuilt ${name} bundles (${(e as Error).message.split("\n")[0]})`);
    }
    const files = readPkgDir(`${dir}/pkg`);
    let installed: Record<string, Uint8Array> = {};
    try {
      installed = readPkgDir(`${kernel.home}/vfs/${packageId}/pkg`);
    } catch { /* not installed */ }
    if (firstBoot || !sameFiles(files, installed)) installPackage(kernel, packageId, files, 1);
  }
}
