/**
 * Where process threads come from. Each process runs in a heap-limited node
 * worker with no permissions (runtime/host/threads.ts), started either:
 *
 * - `processes`: in a process host, a child `deno run` that a few packages
 *   share (runtime/host/host.ts; kernel side in host_process.ts, which host in
 *   host_pool.ts), except the node's own distro packages, which run as
 *   threads. Deno cannot stop a thread inside one synchronous run of
 *   JavaScript (terminate() leaves a `for(;;){}` burning a core for the node's
 *   lifetime; a heap exhausted in a synchronous loop leaves its thread blocked
 *   at its limit), but the kernel can always end an OS process. A stuck
 *   thread costs the processes sharing its host a restart, once: its package
 *   runs alone from then on.
 * - `threads`: in the sandbox factory (runtime/host/factory.ts), a worker in
 *   the node's own process: cheaper, but a stuck thread stays until the node
 *   stops. Used when the node may not start a child Deno (a compiled binary).
 *
 * Either way the kernel gets a port per process and a report when its thread
 * ends by itself (an exception, its heap limit, `close()`, its host's end).
 */
import type { FromFactory, ToFactory } from "../host/protocol.ts";
import { packageOf, type ProcessId } from "../types.ts";
import { type HostEnd, IDLE, ProcessHost, type ThreadEnded } from "./host_process.ts";
import { HostPool, POOL_HOSTS } from "./host_pool.ts";
import { canSpawnDeno } from "./module_worker.ts";

const HOST = new URL("../host/", import.meta.url);
/** The files the bootstrap's threads load; the factory and hosts may read these alone. */
const BOOTSTRAP_FILES = [
  "factory.ts",
  "host.ts",
  "threads.ts",
  "activity.ts",
  "pipe.ts",
  "worker.ts",
  "protocol.ts",
  "wire.ts",
  "binary.ts",
  "lockdown.ts",
  "../limits.ts",
].map((f) => new URL(f, HOST).pathname);

/** The heap limit of one process's thread, in MiB, unless the node says otherwise. */
export const PROCESS_HEAP_MB = 512;

const STOPPING = "the node is stopping";

export type SandboxMode = "threads" | "processes";
export const SANDBOX_MODES: readonly SandboxMode[] = ["threads", "processes"];

/**
 * What Running needs of a port: a MessagePort, which takes and gives batches
 * (wire.ts), or a relay to a process host, which takes and gives messages
 * (`messages`: it encodes them for its pipe itself, binary.ts).
 */
export interface ThreadPort {
  postMessage(batch: unknown): void;
  onmessage: ((e: MessageEvent) => void) | null;
  readonly messages?: true;
}

export interface ProcessThread {
  readonly port: ThreadPort;
  terminate(): void;
}

export interface SandboxOptions {
  heapMb?: number;
  /** `processes` unless the node cannot start a child Deno. */
  mode?: SandboxMode;
  /** Packages that run as threads of the node even so: its own code (the distro), not worth a process. */
  inNode?: string[];
  /** How many process hosts packages share (POOL_HOSTS unless told); 0: a host per package. */
  hosts?: number;
  /** Where the sandbox says why it ended a process host. */
  log?: (text: string) => void;
}

export class Sandbox {
  readonly mode: SandboxMode;
  private heapMb: number;
  private log: (text: string) => void;
  private factory: Worker | null = null;
  private next = 1;
  private ended = new Map<number, ThreadEnded>();
  private pool: HostPool | null = null;
  private closing = new Set<Promise<void>>();
  private inNode: Set<string>;

  constructor(opts: SandboxOptions = {}) {
    this.heapMb = opts.heapMb ?? PROCESS_HEAP_MB;
    this.log = opts.log ?? (() => {});
    this.inNode = new Set(opts.inNode ?? []);
    this.mode = (opts.mode ?? "processes") === "processes" && canSpawnDeno() ? "processes" : "threads";
    // Threads start warm with the node, as the first processes start at boot.
    if (this.mode === "threads" || this.inNode.size) this.factory = this.newFactory();
    if (this.mode === "processes") this.pool = new HostPool(opts.hosts ?? POOL_HOSTS, () => this.newHost());
  }

  /**
   * Resolves once every live host has started (at most `ms` from now): the packages' hosts, so their processes are
   * starting.
   */
  async ready(ms = 5000) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hosts = this.pool?.all() ?? [];
    await Promise.race([Promise.all(hosts.map((h) => h.ready)), new Promise((r) => timer = setTimeout(r, ms))]);
    clearTimeout(timer);
  }

  /** The OS process ids of the live process hosts, by package. */
  hostPids(): Map<string, number> {
    return this.pool?.pids() ?? new Map();
  }

  /**
   * A new thread for process `id`; `onEnd` hears once when it ends by itself (not when terminated), with
   * `collateral` when its host was ended because another process there was stuck.
   */
  start(id: ProcessId, onEnd: ThreadEnded): ProcessThread {
    const thread = this.next++;
    const pkg = packageOf(id);
    if (this.pool && !this.inNode.has(pkg)) return this.pool.hostOf(pkg).start(id, thread, onEnd);
    const factory = this.factory ??= this.newFactory();
    const { port1, port2 } = new MessageChannel();
    this.ended.set(thread, onEnd);
    factory.postMessage({ t: "start", thread, port: port2 } satisfies ToFactory, [port2]);
    return {
      port: port1,
      terminate: () => {
        this.ended.delete(thread);
        port1.close();
        this.factory?.postMessage({ t: "kill", thread } satisfies ToFactory);
      },
    };
  }

  /** A host takes a `deno run` start-up (0.3-1.8 s on a busy machine). */
  private newHost(): ProcessHost {
    return new ProcessHost(this.heapMb, BOOTSTRAP_FILES, (gone, end) => {
      const stuckPkg = end.stuck === null ? null : packageOf(end.stuck);
      const moved = stuckPkg !== null && !!this.pool?.size && !this.pool.isAlone(stuckPkg);
      this.pool?.ended(gone, stuckPkg);
      if (end.why !== IDLE && end.why !== STOPPING) this.log(hostEndedLine(gone, end, moved));
      this.closing.add(gone.done);
      gone.done.then(() => this.closing.delete(gone.done));
    });
  }

  private newFactory(): Worker {
    const factory = new Worker(new URL("factory.ts", HOST), {
      type: "module",
      deno: {
        permissions: {
          read: BOOTSTRAP_FILES,
          write: false,
          net: false,
          env: false,
          run: false,
          ffi: false,
          sys: false,
        },
      },
    } as WorkerOptions);
    factory.onmessage = (e: MessageEvent<FromFactory>) => {
      const m = e.data;
      // A stuck thread here can only be left as it is: nothing ends it but the node itself.
      if (m?.t !== "ended") return;
      const cb = this.ended.get(m.thread);
      this.ended.delete(m.thread);
      cb?.(m.error);
    };
    // Should the factory itself fail, every thread it started is gone: say so, and start anew.
    factory.onerror = (e) => {
      e.preventDefault();
      const lost = [...this.ended.values()];
      this.ended.clear();
      factory.terminate();
      this.factory = null;
      for (const cb of lost) cb(`the sandbox factory failed: ${e.message}`);
    };
    // Only the distro's processes (the terminal's scripts, one command at a time) start here
    // when packages have hosts: one warm thread is enough, and each costs ~10 MiB of the node.
    const warm = this.mode === "processes" ? 1 : undefined;
    factory.postMessage({ t: "config", heapMb: this.heapMb, warm } satisfies ToFactory);
    return factory;
  }

  /** Ends every process thread and host; resolves once the hosts' OS processes are gone. */
  async close() {
    this.ended.clear();
    this.factory?.terminate();
    this.factory = null;
    for (const h of this.pool?.all() ?? []) h.end(STOPPING);
    await Promise.all(this.closing);
  }
}

/**
 * One line: which host ended and why, and, for a stuck process, which processes went down with it and that its
 * package runs alone from now on (`moved`: it did not already).
 */
function hostEndedLine(host: ProcessHost, end: HostEnd, moved: boolean): string {
  const pkgs = [...host.packages];
  const of = pkgs.length === 0 ? "no package" : `${pkgs.length === 1 ? "package" : "packages"} ${pkgs.join(", ")}`;
  let line = `kernel: the process host of ${of} (pid ${host.pid}) ended: ${end.why}`;
  if (end.stuck === null) return line;
  const taken = end.taken.filter((id) => id !== end.stuck);
  line += taken.length
    ? `; it took down ${taken.join(", ")}, each restarting as its on_exit says`
    : "; no other process ran there";
  if (moved) line += `; ${packageOf(end.stuck)} runs in a process host of its own from now on`;
  return line;
}
