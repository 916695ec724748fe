/**
 * Process lifecycle: start a process's thread, stop it (requests it awaited
 * are dropped, those awaiting it fail Offline at once), and on exit honour
 * its OnExit: restart with back-off (reset after a healthy run), send its
 * exit requests, or let it go. Messages for a process waiting to restart are
 * queued for it.
 */
import { unansweredRequest } from "./sole_blobs.ts";
import { type KernelMessage, nodeOf, type OnExit, ParseError, type ProcessId, processOf, randomId } from "../types.ts";
import type { ProcessStatus } from "../api/kernel.ts";
import type { Kernel } from "./kernel.ts";
import { Running } from "./running.ts";
import { sourceMappedStack } from "./source_map.ts";

interface Lifecycle {
  restarts: number;
  backoffMs: number;
  restartTimer: ReturnType<typeof setTimeout> | null;
  restartAt: number | null;
  lastError: string | null;
  killed: boolean;
  /** Messages that arrived while the process waited to restart. */
  queued: { km: KernelMessage; context: Uint8Array | null }[];
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 60_000;
/** A run at least this long resets the back-off: the process is healthy. */
const HEALTHY_RUN_MS = 30_000;
const MAX_QUEUED = 1024;

export class Lifecycles {
  private life = new Map<ProcessId, Lifecycle>();

  constructor(private k: Kernel) {}

  /** Keeps `km` for `target` if it waits to restart (and its queue has room); returns whether it did. */
  queueForRestart(target: ProcessId, km: KernelMessage, context: Uint8Array | null): boolean {
    const life = this.life.get(target);
    if (!life?.restartTimer || life.queued.length >= MAX_QUEUED) return false;
    life.queued.push({ km, context });
    return true;
  }

  /** Cancels every pending restart (shutdown). */
  clearTimers() {
    for (const l of this.life.values()) if (l.restartTimer) clearTimeout(l.restartTimer);
  }

  /** Starts a process that is in the map (RunProcess). */
  run(id: ProcessId): void {
    const p = this.k.processes.get(id);
    if (!p) throw new ParseError(`no process ${id} in the process map`);
    if (this.k.running.has(id)) return;
    const code = this.k.code.get(p.wasm_bytes_handle);
    const life = this.lifeOf(id);
    life.killed = false;
    if (life.restartTimer) clearTimeout(life.restartTimer);
    life.restartTimer = null;
    life.restartAt = null;
    // A thread that ends without saying so (its heap limit, a fatal error) has exited.
    const thread = this.k.sandbox.start(id, (error, collateral) => {
      if (this.k.running.get(id) === r) {
        this.exited(id, false, error ?? "its thread ended without an exit: treated as a crash", collateral);
      }
    });
    const r = new Running(id, thread, (batch) => this.k.syscalls.fromProcess(id, batch));
    this.k.running.set(id, r);
    r.post({ t: "init", our: this.k.addr(id), code, state: this.k.state.get(id), capabilities: p.capabilities });
    for (const q of life.queued.splice(0)) r.deliver(q.km, q.context);
  }

  private lifeOf(id: ProcessId): Lifecycle {
    let l = this.life.get(id);
    if (!l) {
      l = {
        restarts: 0,
        backoffMs: 0,
        restartTimer: null,
        restartAt: null,
        lastError: null,
        killed: false,
        queued: [],
      };
      this.life.set(id, l);
    }
    return l;
  }

  /** Terminates a process's worker; requests it awaited come back Offline. */
  stop(id: ProcessId, killed: boolean) {
    const r = this.k.running.get(id);
    if (!r) return;
    this.k.running.delete(id);
    r.terminate();
    this.lifeOf(id).killed = killed;
    this.k.caps.forget(id);
    this.k.processExited(id);
    const self = this.k.addr(id);
    for (const [pid, p] of this.k.pending.entries()) {
      if (p.requester === id) {
        this.k.deadlines.clear(pid);
        this.k.pending.take(pid);
        // Its target may still answer, and the process's restart may send under the same id.
        unansweredRequest(p.km, this.k.our);
      } else if (p.km.target === self) {
        // Whoever awaits an answer from a process that died hears it now, not at the timeout.
        this.k.fail(pid, "Offline");
      }
    }
  }

  /** KillProcess: stops it and removes it from the map; Restart is not honoured. */
  kill(id: ProcessId): boolean {
    const known = this.k.processes.has(id) || this.k.running.has(id);
    this.stop(id, true);
    const l = this.life.get(id);
    if (l?.restartTimer) clearTimeout(l.restartTimer);
    this.life.delete(id);
    this.forgetScript(id);
    this.k.processes.remove(id);
    return known;
  }

  /**
   * The process ended by itself (or its thread did). `collateral`: it was taken down with its process host because
   * another process there was stuck (the sandbox logged who): not its failure, so it restarts at once, its back-off
   * unchanged.
   */
  exited(id: ProcessId, ok: boolean, error: string | null, collateral = false) {
    const r = this.k.running.get(id);
    if (!r) return;
    const ranMs = Date.now() - r.startedAt;
    const p = this.k.processes.get(id);
    this.stop(id, false);
    const life = this.lifeOf(id);
    if (collateral) life.lastError = error;
    else if (!ok) {
      // The trace in the package's own sources, in full once; a crash that repeats it on each restart is one line.
      const trace = error && p
        ? sourceMappedStack(error, this.k.addr(id), this.k.code.path(p.wasm_bytes_handle))
        : error;
      const again = trace !== null && trace === life.lastError;
      life.lastError = trace;
      const text = again ? `crashed again: ${trace!.split("\n")[0]}` : `crashed: ${trace}`;
      this.k.print(0, `kernel: ${id} ${text}`, { source: id, kind: "crash" });
    } else this.k.print(2, `kernel: ${id} exited`);
    if (this.k.stopping || !p) return;
    const onExit: OnExit = p.on_exit;
    if (onExit === "Restart") {
      if (!collateral) {
        life.backoffMs = ranMs >= HEALTHY_RUN_MS
          ? 0
          : Math.min(Math.max(life.backoffMs * 2, MIN_BACKOFF_MS), MAX_BACKOFF_MS);
      }
      const delayMs = collateral ? 0 : life.backoffMs;
      life.restarts++;
      life.restartAt = Date.now() + delayMs;
      if (!ok && !collateral) {
        this.k.print(0, `kernel: restarting ${id} in ${life.backoffMs} ms (restart ${life.restarts})`);
      }
      life.restartTimer = setTimeout(() => {
        life.restartTimer = null;
        if (this.k.processes.has(id) && !this.k.stopping) {
          try {
            this.run(id);
          } catch (e) {
            this.k.print(0, `kernel: could not restart ${id}: ${(e as Error).message}`);
          }
        }
      }, delayMs);
      return;
    }
    if (typeof onExit === "object") {
      for (const [target, request, blob] of onExit.Requests) {
        const req = { ...request, capabilities: this.k.caps.genuineCaps(id, request.capabilities) };
        if (!this.k.caps.mayMessage(id, target)) continue;
        const tp = processOf(target);
        if (nodeOf(target) === this.k.our && !this.k.running.has(tp) && !this.k.isModule(tp)) continue;
        this.k.route({
          id: randomId(),
          source: this.k.addr(id),
          target,
          rsvp: null,
          message: { Request: req },
          lazy_load_blob: blob,
        });
      }
    }
    this.life.delete(id);
    this.forgetScript(id);
    this.k.processes.remove(id);
  }

  /**
   * A script that ended is gone for good (its id was random): the capabilities
   * to message it that its start handed out (grant_capabilities) go too, so
   * they do not pile up on their holders, one per command ever run.
   */
  private forgetScript(id: ProcessId) {
    if (!this.k.scripts.delete(id)) return;
    this.k.processes.dropIssuedBy(this.k.addr(id));
  }

  status(id: ProcessId): ProcessStatus {
    const r = this.k.running.get(id);
    const l = this.life.get(id);
    return {
      running: Boolean(r),
      restarts: l?.restarts ?? 0,
      next_restart_ms: l?.restartAt ? Math.max(0, l.restartAt - Date.now()) : null,
      last_error: l?.lastError ?? null,
      uptime_ms: r ? Date.now() - r.startedAt : null,
      messages_in: r?.delivered ?? 0,
      messages_out: r?.sent ?? 0,
    };
  }
}
