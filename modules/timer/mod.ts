/**
 * timer:distro:sys — the book's TimerAction: `{"SetTimer": ms}` answers with
 * an empty Response after `ms` milliseconds; `"Debug"` prints active timers.
 * Timers are for local processes: a request from another node is refused
 * (the kernel already stops those; this is the second lock).
 *
 * A process holds at most MAX_TIMERS_PER_PROCESS timers at once: past that a
 * SetTimer is answered at once with `{"Err": {"TooManyTimers": {...}}}` (a
 * popped timer's body is always empty, so a body means an error) and a line in
 * the log. A process's timers are cleared when it exits.
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { fromUtf8, jsonBytes, type KernelMessage, nodeOf, type ProcessId, processOf } from "../../runtime/types.ts";
import { TIMER } from "../../runtime/api/processes.ts";
import type { TimerError } from "../../runtime/api/timer.ts";

/** Longer than this does not fit a setTimeout; callers chain timers instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;
export const MAX_TIMERS_PER_PROCESS = 10_000;

interface Timer {
  km: KernelMessage;
  due: number;
  handle: ReturnType<typeof setTimeout>;
}

export class TimerModule implements RuntimeModule {
  readonly process = TIMER;
  readonly public = true;
  /** Active timers by the process that set them. */
  private timers = new Map<ProcessId, Set<Timer>>();

  constructor(private k: KernelHandle) {}

  handle(km: KernelMessage) {
    if (!("Request" in km.message)) return;
    if (nodeOf(km.source) !== this.k.our) {
      const line = `timer: refused a request from ${km.source}: timers are for local processes`;
      return this.k.print(0, line, { source: nodeOf(km.source), kind: "remote timer" });
    }
    let action: unknown;
    try {
      action = JSON.parse(fromUtf8(km.message.Request.body));
    } catch {
      return this.k.print(0, `timer: ${km.source} sent a body that is not a JSON TimerAction`);
    }
    if (action === "Debug") {
      const now = Date.now();
      const all = [...this.timers.values()].flatMap((s) => [...s]);
      const lines = all.slice(0, 100).map((t) => `  ${t.km.source}: pops in ${t.due - now} ms`);
      return this.k.print(0, `timer: ${all.length} active\n${lines.join("\n")}`);
    }
    const ms = (action as { SetTimer?: unknown })?.SetTimer;
    if (typeof ms !== "number" || !(ms >= 0) || ms > MAX_TIMER_MS) {
      return this.k.print(0, `timer: bad TimerAction from ${km.source}: use {"SetTimer": milliseconds}`);
    }
    const owner = processOf(km.source);
    let mine = this.timers.get(owner);
    if (!mine) this.timers.set(owner, mine = new Set());
    if (mine.size >= MAX_TIMERS_PER_PROCESS) {
      this.k.print(0, `timer: ${owner} holds ${mine.size} timers, the most a process may; SetTimer refused`, {
        source: owner,
        kind: "too many timers",
      });
      const refusal: TimerError = { TooManyTimers: { limit: MAX_TIMERS_PER_PROCESS } };
      return this.k.respond(km, jsonBytes({ Err: refusal }));
    }
    const set = mine;
    const timer: Timer = {
      km,
      due: Date.now() + ms,
      handle: setTimeout(() => {
        set.delete(timer);
        if (set.size === 0 && this.timers.get(owner) === set) this.timers.delete(owner);
        this.k.respond(km, new Uint8Array());
      }, ms),
    };
    Deno.unrefTimer(timer.handle as unknown as number);
    set.add(timer);
  }

  processExited(process: ProcessId) {
    const mine = this.timers.get(process);
    if (!mine) return;
    for (const t of mine) clearTimeout(t.handle);
    this.timers.delete(process);
  }

  shutdown() {
    for (const id of [...this.timers.keys()]) this.processExited(id);
  }
}
