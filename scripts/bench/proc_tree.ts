/**
 * What a process tree has used, read from /proc once at the start of a
 * measured window and once at its end (nothing samples inside it, so the
 * harness's own work is never counted): CPU-seconds of every process in the
 * tree, children included, and the sum of their peak RSS.
 *
 * CPU is utime+stime+cutime+cstime of each process: a child that ended and
 * was reaped within the window is in its parent's cutime/cstime, so the
 * difference of two readings is the tree's whole use. Deno reads another
 * process's /proc files only with --allow-all: one `sh` reads them.
 */

export interface TreeUse {
  /** CPU-seconds used so far by the tree (every thread of every process, reaped children included). */
  cpu: number;
  /** Sum of each process's peak RSS (VmHWM) in bytes: an upper bound of the tree's peak, reset by resetPeaks. */
  peak: number;
  /** The root process's own peak RSS (VmHWM) in bytes. */
  rootPeak: number;
  /** RSS now, of the tree and of its root. */
  rss: number;
  rootRss: number;
  /** Processes in the tree now. */
  pids: number[];
}

const HZ = 100;

interface Proc {
  pid: number;
  ppid: number;
  cpu: number;
  hwm: number;
  rss: number;
}

async function readProcs(): Promise<Proc[]> {
  // Two commands in all, not two per process: a busy machine makes every fork slow.
  const out = await new Deno.Command("sh", {
    args: ["-c", "cat /proc/[0-9]*/stat 2>/dev/null; grep -s -H -E '^Vm(HWM|RSS):' /proc/[0-9]*/status"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
  const mem = new Map<number, string>();
  for (const l of lines) {
    const m = l.match(/^\/proc\/(\d+)\/status:(.*)$/);
    if (m) mem.set(Number(m[1]), `${mem.get(Number(m[1])) ?? ""} ${m[2]}`);
  }
  return lines.filter((l) => !l.startsWith("/proc/")).map((l) => {
    const pid = Number(l.slice(0, l.indexOf(" ")));
    return parseStat(`${l} ${mem.get(pid) ?? ""}`);
  });
}

/** One /proc/<pid>/stat line (with "VmHWM: N kB VmRSS: N kB" after it, when known). */
export function parseStat(line: string): Proc {
  const close = line.lastIndexOf(")");
  const f = line.slice(close + 2).split(" ");
  // Fields after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const hwm = line.match(/VmHWM:\s+(\d+) kB/), rss = line.match(/VmRSS:\s+(\d+) kB/);
  return {
    pid: Number(line.slice(0, line.indexOf(" "))),
    ppid: Number(f[1]),
    cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / HZ,
    hwm: hwm ? Number(hwm[1]) * 1024 : 0,
    rss: rss ? Number(rss[1]) * 1024 : 0,
  };
}

function trees(procs: Proc[], roots: number[]): Proc[][] {
  const kids = new Map<number, Proc[]>();
  for (const p of procs) kids.set(p.ppid, [...kids.get(p.ppid) ?? [], p]);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  return roots.map((root) => {
    const found: Proc[] = [];
    for (const stack = [byPid.get(root)!].filter(Boolean); stack.length;) {
      const p = stack.pop()!;
      found.push(p);
      stack.push(...kids.get(p.pid) ?? []);
    }
    return found;
  });
}

/** What each tree rooted at `roots` has used so far. */
export async function treeUse(roots: number[]): Promise<TreeUse[]> {
  return trees(await readProcs(), roots).map((t) => ({
    cpu: t.reduce((n, p) => n + p.cpu, 0),
    peak: t.reduce((n, p) => n + p.hwm, 0),
    rootPeak: t[0]?.hwm ?? 0,
    rss: t.reduce((n, p) => n + p.rss, 0),
    rootRss: t[0]?.rss ?? 0,
    pids: t.map((p) => p.pid),
  }));
}

/** Starts each tree's processes' peak RSS afresh (clear_refs 5), so the next reading's peak is the window's. */
export async function resetPeaks(roots: number[]) {
  const pids = trees(await readProcs(), roots).flat().map((p) => p.pid);
  await new Deno.Command("sh", {
    args: ["-c", pids.map((p) => `echo 5 > /proc/${p}/clear_refs`).join(" 2>/dev/null; ") + " 2>/dev/null; true"],
    stdout: "null",
    stderr: "null",
  }).output();
}

/**
 * Runs `cmd args` and returns its CPU-seconds with those of every descendant it waited for (a `sh` runs it and
 * reads its own cutime/cstime after it ends), and whether it succeeded.
 */
export async function runCounted(
  cmd: string,
  args: string[],
): Promise<{ cpu: number; success: boolean; stderr: string }> {
  const out = await new Deno.Command("sh", {
    args: ["-c", '"$@" >/dev/null; s=$?; cat /proc/$$/stat; exit $s', "sh", cmd, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const f = parseStat(new TextDecoder().decode(out.stdout).trim());
  // The sh's own utime/stime are its fork and exec; its cutime/cstime are the command's tree.
  const line = new TextDecoder().decode(out.stdout).trim();
  const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
  return {
    cpu: f.cpu - (Number(fields[11]) + Number(fields[12])) / HZ,
    success: out.success,
    stderr: new TextDecoder().decode(out.stderr),
  };
}
