/**
 * timer:distro:sys — the book's TimerAction: `{"SetTimer": ms}` answers with
 * an empty Response after `ms` milliseconds; `"Debug"` prints active timers.
 * Timers are for local processes: a request from another node is refused
 * (the kernel already stops those; this is the second lock).
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { fromUtf8, type KernelMessage, nodeOf } from "../../runtime/types.ts";

/** Longer than this does not fit a setTimeout; callers chain timers instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class TimerModule implements RuntimeModule {
  readonly process = "timer:distro:sys";
  readonly public = true;
  private timers = new Map<number, { km: KernelMessage; due: number; handle: ReturnType<typeof setTimeout> }>();

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
      const lines = [...this.timers.values()].map((t) => `  ${t.km.source}: pops in ${t.due - now} ms`);
      return this.k.print(0, `timer: ${this.timers.size} active\n${lines.join("\n")}`);
    }
    const ms = (action as { SetTimer?: unknown })?.SetTimer;
    if (typeof ms !== "number" || !(ms >= 0) || ms > MAX_TIMER_MS) {
      return this.k.print(0, `timer: bad TimerAction from ${km.source}: use {"SetTimer": milliseconds}`);
    }
    const key = Math.random();
    const handle = setTimeout(() => {
      this.timers.delete(key);
      this.k.respond(km, new Uint8Array());
    }, ms);
    Deno.unrefTimer(handle as unknown as number);
    this.timers.set(key, { km, due: Date.now() + ms, handle });
  }

  shutdown() {
    for (const t of this.timers.values()) clearTimeout(t.handle);
    this.timers.clear();
  }
}
