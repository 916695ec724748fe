/**
 * Which process host a package's processes run in. Packages share a few
 * hosts: a host is a `deno run` (~45 MiB and a start-up of its own), a process
 * thread in it ~10 MiB, so a host per package cost a node with 50 packages
 * 3.5 GiB and a restart that started 50 OS processes at once. Every process is
 * still its own worker isolate with no permissions (runtime/host/threads.ts),
 * in a host with no permissions but reading the bootstrap.
 *
 * A package's processes all go to one host. The pool grows to `size` hosts
 * before any is shared, then a package goes to the host running the fewest
 * threads. Ending a host is the only way to stop a stuck thread, and that
 * takes its co-tenants down (they restart as their OnExit says): so a package
 * one of whose processes was stuck runs in a host of its own from then on, and
 * takes other packages down once at most.
 *
 * `size` 0 keeps the design before the pool, a host per package (benchmarks
 * compare against it).
 */
import type { ProcessHost } from "./host_process.ts";

/** How many hosts packages share unless the node says otherwise: see README, Benchmarks (`deno task bench apps`). */
export const POOL_HOSTS = 4;

export class HostPool {
  private shared: ProcessHost[] = [];
  private hostOfPkg = new Map<string, ProcessHost>();
  /** Packages that got a shared host ended (a stuck process): each runs alone from then on. */
  private alone = new Set<string>();

  /**
   * A host starts when a package first needs one, never ahead: a spare host waiting for the next install cost every
   * node ~45 MiB and ~0.4 CPU-s (its `deno run` and warm threads), while most nodes install nothing after boot.
   * At boot every persisted package asks for its host in one pass, so those hosts start side by side; a package
   * installed later waits one `deno run` start-up (~0.3 s quiet), small beside its download and build.
   */
  constructor(readonly size: number, private startHost: () => ProcessHost) {}

  /** The host that runs `pkg`'s processes, chosen (and started if need be) on its first process. */
  hostOf(pkg: string): ProcessHost {
    const known = this.hostOfPkg.get(pkg);
    if (known?.alive) return known;
    let host: ProcessHost;
    if (this.size === 0 || this.alone.has(pkg)) host = this.startHost();
    else if (this.shared.length < this.size) {
      host = this.startHost();
      this.shared.push(host);
    } else host = this.shared.reduce((a, b) => lighter(b, a) ? b : a);
    host.packages.add(pkg);
    this.hostOfPkg.set(pkg, host);
    return host;
  }

  /** A host ended: its packages get a host anew on their next process; `stuck`'s package gets one of its own. */
  ended(host: ProcessHost, stuckPkg: string | null) {
    this.shared = this.shared.filter((h) => h !== host);
    for (const pkg of host.packages) if (this.hostOfPkg.get(pkg) === host) this.hostOfPkg.delete(pkg);
    if (stuckPkg !== null && this.size > 0) this.alone.add(stuckPkg);
  }

  /** Whether `pkg` runs in a host of its own because a process of it was stuck. */
  isAlone(pkg: string): boolean {
    return this.alone.has(pkg);
  }

  /** Every live host. */
  all(): ProcessHost[] {
    return [...new Set([...this.hostOfPkg.values(), ...this.shared])].filter((h) => h.alive);
  }

  /** The OS process id of each package's host. */
  pids(): Map<string, number> {
    return new Map([...this.hostOfPkg].filter(([, h]) => h.alive).map(([pkg, h]) => [pkg, h.pid]));
  }
}

/** Fewer threads, then fewer packages. */
function lighter(a: ProcessHost, b: ProcessHost): boolean {
  return a.size < b.size || (a.size === b.size && a.packages.size < b.packages.size);
}
