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
/** With a host per package, two start ahead, so two packages installed together both start at once. */
const SPARES_PER_PACKAGE = 2;

export class HostPool {
  private shared: ProcessHost[] = [];
  /** Started ahead of need, so a package's first process need not wait for a `deno run`. */
  private spares: ProcessHost[] = [];
  private hostOfPkg = new Map<string, ProcessHost>();
  /** Packages that got a shared host ended (a stuck process): each runs alone from then on. */
  private alone = new Set<string>();

  /**
   * No host starts with the pool: a node that runs only its built-in packages (in the node's own threads) never
   * needs one, and a spare is ~45 MiB and ~0.3 CPU-s. The first package pays one `deno run` start-up; the spare
   * started with it takes the next.
   */
  constructor(readonly size: number, private startHost: () => ProcessHost) {}

  /** The host that runs `pkg`'s processes, chosen (and started if need be) on its first process. */
  hostOf(pkg: string): ProcessHost {
    const known = this.hostOfPkg.get(pkg);
    if (known?.alive) return known;
    let host: ProcessHost;
    if (this.size === 0 || this.alone.has(pkg)) host = this.spareOrNew();
    else if (this.shared.length < this.size) {
      host = this.spareOrNew();
      this.shared.push(host);
    } else host = this.shared.reduce((a, b) => lighter(b, a) ? b : a);
    host.packages.add(pkg);
    this.hostOfPkg.set(pkg, host);
    this.topUp();
    return host;
  }

  /** A host ended: its packages get a host anew on their next process; `stuck`'s package gets one of its own. */
  ended(host: ProcessHost, stuckPkg: string | null) {
    this.spares = this.spares.filter((h) => h !== host);
    this.shared = this.shared.filter((h) => h !== host);
    for (const pkg of host.packages) if (this.hostOfPkg.get(pkg) === host) this.hostOfPkg.delete(pkg);
    if (stuckPkg !== null && this.size > 0) this.alone.add(stuckPkg);
  }

  /** Whether `pkg` runs in a host of its own because a process of it was stuck. */
  isAlone(pkg: string): boolean {
    return this.alone.has(pkg);
  }

  /** Every live host, spares included. */
  all(): ProcessHost[] {
    return [...new Set([...this.hostOfPkg.values(), ...this.shared, ...this.spares])].filter((h) => h.alive);
  }

  /** The OS process id of each package's host. */
  pids(): Map<string, number> {
    return new Map([...this.hostOfPkg].filter(([, h]) => h.alive).map(([pkg, h]) => [pkg, h.pid]));
  }

  private spareOrNew(): ProcessHost {
    return this.spares.shift() ?? this.startHost();
  }

  /** One spare while the pool can still grow (two with a host per package), none once it is full. */
  private topUp() {
    const want = this.size === 0 ? SPARES_PER_PACKAGE : this.shared.length < this.size ? 1 : 0;
    while (this.spares.length < want) this.spares.push(this.startHost());
  }
}

/** Fewer threads, then fewer packages. */
function lighter(a: ProcessHost, b: ProcessHost): boolean {
  return a.size < b.size || (a.size === b.size && a.packages.size < b.packages.size);
}
