/**
 * Crashing real nodes on purpose: a node in its own OS process group (its
 * process hosts and SQLite engines are its children, so they are in it too),
 * killed with SIGKILL all at once as the kernel's OOM killer or a power-off
 * of the machine's processes would, then booted again on the same home.
 * Kill points come from a seeded generator, printed so a failing round can be
 * replayed with KILL9_SEED.
 */
import { freePort, PipedProcess, RUN_FLAGS } from "./cli_helpers.ts";
import { inject, type TestChain, waitFor } from "../runtime/testing.ts";

/** Rounds per scenario: KILL9_ROUNDS (the issue asks for 20), or a few in the everyday suite. */
export function roundsWanted(fallback: number): number {
  const n = Number(Deno.env.get("KILL9_ROUNDS") ?? fallback);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`KILL9_ROUNDS should be a whole number ≥ 1, not ${n}`);
  return n;
}

/** mulberry32: small, seedable, good enough to pick kill points. */
export function seeded(label: string): { seed: number; next: () => number; between: (a: number, b: number) => number } {
  const given = Deno.env.get("KILL9_SEED");
  const seed = given !== undefined ? Number(given) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`${label}: seed ${seed} (replay with KILL9_SEED=${seed})`);
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { seed, next, between: (lo, hi) => lo + (hi - lo) * next() };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `boot-fake-node` leading a process group of its own (setsid without a fork
 * keeps its pid, so the group id is the pid), on a persisted home.
 */
export class CrashableNode extends PipedProcess {
  private status: Promise<Deno.CommandStatus>;

  constructor(readonly name: string, readonly port: number, readonly home: string, chainPort: number) {
    super("setsid", [
      Deno.execPath(),
      ...RUN_FLAGS,
      "boot-fake-node",
      ...["-f", name, "-p", String(port), "-o", home, "-c", String(chainPort), "--persist"],
    ]);
    this.status = this.child.status;
  }

  async ready(ms = 60_000): Promise<void> {
    let exited = false;
    this.status.then(() => exited = true);
    const until = Date.now() + ms;
    while (!/node ready/.test(this.output)) {
      if (exited || Date.now() > until) {
        throw new Error(`${this.name} did not boot${exited ? "" : ` within ${ms / 1000} s`}:\n${this.output.trim()}`);
      }
      await sleep(20);
    }
  }

  /** SIGKILL to the whole group at once: the node, its process hosts, its SQLite engines. */
  async crash(): Promise<void> {
    try {
      Deno.kill(-this.pid, "SIGKILL");
    } catch { /* the group is gone already */ }
    await this.exited();
    // The children die with the same signal; wait until none is left, so the next boot finds the home free.
    const until = Date.now() + 10_000;
    while (groupAlive(this.pid) && Date.now() < until) await sleep(20);
  }

  /** A clean stop (SIGINT), then SIGKILL to whatever of the group is left. */
  async shutdown(): Promise<void> {
    this.kill("SIGINT");
    const killer = setTimeout(() => this.crash(), 15_000);
    await this.exited();
    clearTimeout(killer);
    try {
      Deno.kill(-this.pid, "SIGKILL");
    } catch { /* none left */ }
  }
}

/**
 * Whether any process of group `pgid` still runs (zombies, waiting for their reaper, do not count). Asked of `ps`:
 * the test task's permissions read no /proc (Deno wants --allow-all for it).
 */
function groupAlive(pgid: number): boolean {
  const out = new Deno.Command("ps", { args: ["-e", "-o", "pgid=,stat="], stdout: "piped", stderr: "null" })
    .outputSync();
  return new TextDecoder().decode(out.stdout).split("\n").some((line) => {
    const [group, state] = line.trim().split(/\s+/);
    return Number(group) === pgid && !state?.startsWith("Z");
  });
}

/** A node on one home and port that rounds crash and boot again; `node` is the current process. */
export class Rebooting {
  node: CrashableNode;

  constructor(readonly name: string, readonly port: number, readonly home: string, private chainPort: number) {
    this.node = new CrashableNode(name, port, home, chainPort);
  }

  async crash() {
    await this.node.crash();
  }

  /** Boots it again on its home (after a crash), ready. */
  async boot() {
    this.node = new CrashableNode(this.name, this.port, this.home, this.chainPort);
    await this.node.ready();
  }
}

/**
 * Runs `f` with a node booted on a new home, on `chain`; shows the node's last
 * output if `f` throws; stops the node and removes the home after.
 */
export async function withRebooting<T>(name: string, chain: TestChain, f: (n: Rebooting) => Promise<T>): Promise<T> {
  const home = await Deno.makeTempDir({ prefix: `hyperdeno-kill9-${name.split(".")[0]}-` });
  const n = new Rebooting(name, freePort(), home, chain.port);
  try {
    await n.node.ready();
    return await f(n);
  } catch (e) {
    console.log(`${name}'s last output:\n${n.node.output.slice(-4000)}`);
    throw e;
  } finally {
    await n.node.shutdown();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
}

/**
 * Asks `process` and parses its JSON answer, asking again while it is not
 * running (502 Offline: just booted, or restarting after a busy machine made
 * it miss its pings), for up to a minute.
 */
export async function askRunning<T>(port: number, process: string, body: unknown, timeout = 120): Promise<T> {
  let answer: T | undefined;
  await waitFor(`${process} to answer`, async () => {
    const r = await inject({ port }, process, JSON.stringify(body), { timeout }).catch(() => null);
    if (r?.status === 200) answer = JSON.parse(r.body!) as T;
    else if (r && r.status !== 502 && r.status !== 503) throw new Error(`${process} answered ${r.status} ${r.error}`);
    return r?.status === 200;
  }, 60_000);
  return answer!;
}
