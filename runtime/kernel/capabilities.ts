/**
 * The kernel's capability checks: who may message whom (decisions cached
 * until any capability changes), which attached capabilities are genuine, and
 * which capabilities reached a process on a message (the only ones it may save).
 */
import {
  type Address,
  type Capability,
  capKey,
  MESSAGING,
  NETWORK,
  nodeOf,
  type ProcessId,
  processOf,
  ROOT,
} from "../types.ts";
import { KERNEL } from "../api/processes.ts";
import type { Kernel } from "./kernel.ts";

export class Capabilities {
  private decisions = new Map<string, boolean>();
  private decisionsVersion = -1;
  /** Capabilities that reached a process on a message (checked when sent). */
  private received = new Map<ProcessId, Set<string>>();

  constructor(private k: Kernel) {}

  /** Forgets cached decisions (a module registered). */
  clearDecisions() {
    this.decisions.clear();
  }

  /** Forgets what reached a process (it stopped). */
  forget(id: ProcessId) {
    this.received.delete(id);
  }

  /** Whether `source` may send a request to `target`; cached until capabilities change. */
  mayMessage(source: ProcessId, target: Address): boolean {
    if (this.decisionsVersion !== this.k.processes.version || this.decisions.size > 50_000) {
      this.decisions.clear();
      this.decisionsVersion = this.k.processes.version;
    }
    const key = `${source}\n${target}`;
    let ok = this.decisions.get(key);
    if (ok === undefined) this.decisions.set(key, ok = this.decide(source, target));
    return ok;
  }

  private decide(source: ProcessId, target: Address): boolean {
    if (this.k.isModule(source)) return true;
    const rootKey = capKey({ issuer: this.k.addr(KERNEL), params: ROOT });
    if (this.k.processes.hasCapKey(source, rootKey)) return true;
    if (nodeOf(target) !== this.k.our) {
      return this.k.processes.hasCap(source, { issuer: this.k.addr(KERNEL), params: NETWORK });
    }
    const tp = processOf(target);
    const mod = this.k.module(tp);
    if (mod?.public) return true;
    if (!mod && this.k.processes.get(tp)?.public) return true;
    return this.k.processes.hasCap(source, { issuer: target, params: MESSAGING });
  }

  /** Keeps the attached capabilities `source` really holds or issues; reports the rest. */
  genuineCaps(source: ProcessId, caps: Capability[]): Capability[] {
    if (this.k.isModule(source) || caps.length === 0) return caps;
    const self = this.k.addr(source);
    const out: Capability[] = [];
    for (const c of caps) {
      if (c.issuer === self || this.k.processes.hasCap(source, c)) out.push(c);
      else {
        const what = `${c.issuer} ${c.params}`;
        this.k.print(0, `kernel: dropped forged capability ${what} attached by ${source}`, {
          source,
          kind: "forged cap",
        });
      }
    }
    return out;
  }

  wasSent(id: ProcessId, c: Capability): boolean {
    return this.received.get(id)?.has(capKey(c)) ?? false;
  }

  noteReceived(id: ProcessId, caps: Capability[]) {
    if (!caps.length) return;
    let s = this.received.get(id);
    if (!s) this.received.set(id, s = new Set());
    for (const c of caps) s.add(capKey(c));
  }
}
