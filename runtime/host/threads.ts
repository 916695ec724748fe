/**
 * Process threads: node:worker_threads Workers running the bootstrap
 * (worker.ts), each with a heap limit. Used by the sandbox factory (a web
 * worker in the node's own process) and by a process host (a child process
 * per package). This starts, stops and reports on threads; the kernel talks
 * to each over a MessagePort of its own.
 *
 * Why not web Workers: Deno 2.9 ignores `resourceLimits` on them, so one
 * process that exhausts its heap took the whole node down ("Fatal JavaScript
 * out of memory"). Node workers honour a heap limit, and inherit the
 * permissions of the thread that creates them: none but reading the
 * bootstrap's own files.
 *
 * What a thread cannot do is stop inside one synchronous run of JavaScript:
 * Deno's Worker.terminate() reports the worker ended (its 'exit' event comes)
 * while a thread in `for(;;){}` keeps its core. A heap exhausted in synchronous
 * code either blocks the thread at its limit, or stops the code and leaves the
 * thread turning an empty event loop, with no event either way (measured on
 * Deno 2.9.6). So every thread is pinged: one whose heap limit was raised (V8
 * does that only to let a thread at its limit end) is ended as a crash; and a
 * process host reports stuck a thread killed that did not answer a ping first
 * (once its host has burnt KILL_CPU_MS of CPU while every other thread there
 * answered a ping, or far more alone, or its host wanted no core for
 * SILENT_MS), or one silent while its host wanted no core (activity.ts: a
 * host starved of CPU on a busy machine is not a blocked one), and the kernel
 * ends the host.
 */
import { type TransferListItem, Worker as NodeWorker } from "node:worker_threads";
import type { FromHost } from "./pipe.ts";
import { cpuNow, HostActivity } from "./activity.ts";

const BOOTSTRAP = new URL("./worker.ts", import.meta.url);
/** Booting a node worker costs 100-300 ms; a few wait warm (unless told otherwise), once processes start on demand. */
const WARM = 2;
/**
 * Starts this long after the first are on demand (a download's worker, a terminal command), not the processes a
 * package or node starts together at boot, which each need a thread anyway: only then do threads wait warm. A warm
 * thread no process takes costs ~110 CPU-ms and ~10 MiB, in every host and node.
 */
const BURST_MS = 2000;
const REFILL_DELAY_MS = 30;
/** How often a thread is pinged. */
const PING_MS = 1000;
/** A thread killed is asked this often whether it still turns its event loop. */
const KILL_PING_MS = 1000;
/**
 * A thread killed that burns this much CPU without answering runs code terminate() cannot stop.
 * CPU, not wall time: on a busy machine a healthy thread finishing its turn waits for a core.
 */
const KILL_CPU_MS = 500;
/**
 * The host's CPU is every thread's: a killed thread that merely waits for a core behind busy siblings (100
 * transfers at once) watched its host burn 500 ms and was judged stuck. So that verdict also needs every other
 * thread to have answered a ping since the kill (each had a core to turn its event loop, as the killed one had);
 * past this many times KILL_CPU_MS it stands alone (a sibling blocked for good must not shelter a spinner).
 */
const KILL_CPU_ALONE = 10;
/** A thread silent this long while its host wanted no core is blocked (its heap exhausted, or Atomics.wait). */
const SILENT_MS = 3000;
const SILENT_WHY = `its thread stopped answering for ${SILENT_MS / 1000} s while its host wanted no CPU: ` +
  "it is blocked, most likely at its memory limit (heap exhausted in synchronous code)";

/** A thread and the pool's end of its control port. */
interface Thread {
  w: NodeWorker;
  control: MessagePort;
}

interface Live extends Thread {
  /** Whether the bootstrap has taken its port: before that no process code runs there. */
  booted: boolean;
  /** When the thread last answered a ping (or started). */
  heard: number;
  pinged: boolean;
  onPong: (() => void) | null;
}

export interface ThreadPoolOptions {
  report(m: FromHost): void;
  /** Batches travel as node:v8 serialized bytes (a process host passes them through unread). */
  bytes: boolean;
  /** How many threads wait warm. */
  warm?: number;
  /** Report stuck threads (a process host: its kernel can end it), pinging a thread before it is killed. */
  watch: boolean;
}

export class ThreadPool {
  private heapMb = 512;
  private warm: Thread[] = [];
  private live = new Map<number, Live>();
  private refill: ReturnType<typeof setTimeout> | null = null;
  private firstStart = 0;
  private onDemand = false;
  private watcher: ReturnType<typeof setInterval> | null = null;
  private activity = new HostActivity();
  /** When the host last wanted a core (computed, waited for one, or its watcher ran late). */
  private busyAt = Date.now();

  constructor(private opts: ThreadPoolOptions) {}

  configure(heapMb: number) {
    this.heapMb = heapMb;
    this.topUp();
  }

  /**
   * A node worker started off the main thread hears its parent port ~500 ms
   * late (measured, on every message), but a MessagePort it was given at
   * creation at once: so the hand-over and the pings travel on a control port.
   */
  private boot(): Thread {
    const { port1, port2 } = new MessageChannel();
    const w = new NodeWorker(BOOTSTRAP, {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      workerData: { control: port2 },
      // A web MessagePort, which node's typings do not name as transferable.
      transferList: [port2 as unknown as TransferListItem],
    });
    return { w, control: port1 };
  }

  private topUp() {
    this.refill = null;
    const want = this.onDemand ? this.opts.warm ?? WARM : 0;
    while (this.warm.length < want) this.warm.push(this.boot());
  }

  start(thread: number, port: MessagePort) {
    const now = Date.now();
    if (!this.firstStart) this.firstStart = now;
    else if (now - this.firstStart >= BURST_MS) this.onDemand = true;
    const { w, control } = this.warm.shift() ?? this.boot();
    const l: Live = { w, control, booted: false, heard: Date.now(), pinged: false, onPong: null };
    this.live.set(thread, l);
    control.onmessage = (e: MessageEvent) => {
      const pong = e.data as { t?: string; exhausted?: boolean } | null;
      if (pong?.t !== "pong") return;
      l.heard = Date.now();
      l.booted = true;
      l.pinged = false;
      l.onPong?.();
      if (pong.exhausted && this.live.get(thread) === l) this.exhausted(thread, l);
    };
    let error: string | null = null;
    w.on("error", (e: Error) => error ??= e?.message ?? String(e));
    w.on("exit", (code: number) => {
      if (this.live.get(thread) !== l) return;
      this.live.delete(thread);
      this.opts.report({
        t: "ended",
        thread,
        error: error ?? (code === 0 ? null : `its worker ended with code ${code}`),
      });
    });
    control.postMessage({ port, bytes: this.opts.bytes }, [port]);
    // A worker booting now would take a core from the process that just started.
    if (this.onDemand) this.refill ??= setTimeout(() => this.topUp(), REFILL_DELAY_MS);
    this.watcher ??= setInterval(() => this.watch(), PING_MS);
  }

  kill(thread: number) {
    const l = this.live.get(thread);
    this.live.delete(thread);
    if (!l) return;
    if (!this.opts.watch || !l.booted) {
      l.w.terminate();
      return;
    }
    // A thread that turns its event loop answers as soon as it gets a core, and terminate() stops it.
    const cpu = cpuNow(), activity = new HostActivity(), killedAt = Date.now();
    for (const o of this.live.values()) {
      if (!o.booted || o.pinged) continue;
      o.pinged = true;
      o.control.postMessage({ t: "ping" });
    }
    let quietSince = killedAt, suspect = false;
    const timer = setInterval(() => {
      const now = Date.now();
      if (activity.wanted(KILL_PING_MS)) quietSince = now;
      const burnt = (cpuNow() - cpu) / 1000;
      const othersTurned = [...this.live.values()].every((o) => !o.booted || o.heard >= killedAt);
      const spinning = burnt >= KILL_CPU_MS && (othersTurned || burnt >= KILL_CPU_MS * KILL_CPU_ALONE);
      const blocked = now - quietSince >= SILENT_MS;
      if (!spinning && !blocked) return;
      // The verdict waits one more tick: a pong queued behind a long turn of this thread (starting threads) is
      // heard first. The CPU is the whole host's, which other processes' threads share.
      if (!suspect) return void (suspect = true);
      clearInterval(timer);
      l.w.terminate();
      this.opts.report({
        t: "stuck",
        thread,
        why: spinning
          ? "it was killed inside synchronous code, which stopping its thread cannot interrupt"
          : SILENT_WHY,
      });
    }, KILL_PING_MS);
    l.onPong = () => {
      clearInterval(timer);
      l.w.terminate();
    };
    l.control.postMessage({ t: "ping" });
  }

  /** Its code was stopped at its heap limit, and its event loop turns: terminate() ends it. */
  private exhausted(thread: number, l: Live) {
    this.live.delete(thread);
    l.w.terminate();
    this.opts.report({
      t: "ended",
      thread,
      error: `it reached its memory limit (${this.heapMb} MiB heap) in synchronous code`,
    });
  }

  /** Pings every thread; reports one silent for SILENT_MS while the host wanted no core. */
  private watch() {
    const now = Date.now();
    if (this.activity.wanted(PING_MS)) this.busyAt = now;
    for (const [thread, l] of this.live) {
      if (this.opts.watch && l.booted && now - l.heard > SILENT_MS && now - this.busyAt > SILENT_MS) {
        this.live.delete(thread);
        l.w.terminate();
        this.opts.report({
          t: "stuck",
          thread,
          why: SILENT_WHY,
        });
        continue;
      }
      if (!l.pinged) {
        l.pinged = true;
        l.control.postMessage({ t: "ping" });
      }
    }
    if (this.live.size === 0 && this.watcher !== null) {
      clearInterval(this.watcher);
      this.watcher = null;
    }
  }
}
