/**
 * Whether a process host wanted a core over a while: the watchdog's evidence
 * that a silent thread is blocked rather than starved.
 *
 * CPU used alone cannot tell them apart: on a machine with more runnable
 * threads than cores, a thread that computes gets a small share of one and
 * its host looks idle (measured at load average 25-30 on 2 cores: a host
 * computing flat out used 18-40% of a core; one waiting its turn uses less).
 * But a thread that wants a core is preempted at the end of each slice it
 * gets, and getrusage counts those involuntary context switches (measured:
 * ~100 a second for a computing host at that load, 0-1 for a host whose only
 * busy thread is blocked in Atomics.wait). Neither needs a permission: Deno
 * lets only --allow-all read /proc, where per-thread scheduler statistics are.
 * A host whose own timer fires late was starved too.
 */
import process from "node:process";

/** Above this share of one core, some thread of the host computes. */
const BUSY_CPU = 0.1;
/** Involuntary context switches a second above which some thread of the host waits for a core. */
const PREEMPTED_PER_S = 5;

interface Sample {
  at: number;
  /** CPU time used, in microseconds. */
  cpu: number;
  preempted: number;
}

function sample(): Sample {
  const u = process.resourceUsage();
  return { at: performance.now(), cpu: u.userCPUTime + u.systemCPUTime, preempted: u.involuntaryContextSwitches };
}

export class HostActivity {
  private last = sample();

  /**
   * Since the previous call, which was expected `expectedMs` before this one: did any
   * thread of this host compute, wait for a core, or was this call itself late?
   */
  wanted(expectedMs: number): boolean {
    const now = sample(), ms = Math.max(1, now.at - this.last.at);
    const computed = now.cpu - this.last.cpu > BUSY_CPU * ms * 1000;
    const preempted = now.preempted - this.last.preempted > PREEMPTED_PER_S * ms / 1000;
    const late = ms > 2 * expectedMs;
    this.last = now;
    return computed || preempted || late;
  }
}

/** CPU time this OS process has used, in microseconds (getrusage: no permission needed). */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
