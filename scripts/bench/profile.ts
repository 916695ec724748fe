/**
 * Where a benchmark's time goes, for the engineer tuning it (not part of the
 * printed table): CPU seconds of each process in a tree, from /proc, and a V8
 * CPU profile of a process started with `--inspect`, summarised by self time.
 */

export interface ProcUse {
  comm: string;
  /** utime+stime, seconds. */
  cpu: number;
  /** utime+stime of its children that ended and were waited for, seconds. */
  reapedCpu: number;
  /** Resident memory, bytes. */
  rss: number;
  /** Bytes through read and write system calls (files, pipes, sockets). */
  read: number;
  written: number;
}

/** What each pid under (and including) `roots` has used so far. */
export async function treeCpu(roots: number[]): Promise<Map<number, ProcUse>> {
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      "for p in /proc/[0-9]*; do echo \"$(cat $p/stat) $(grep -E '^(rchar|wchar)' $p/io | tr '\\n' ' ')\"; done 2>/dev/null",
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  const hz = 100;
  const rows = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map((line) => {
    const close = line.lastIndexOf(")");
    const pid = Number(line.slice(0, line.indexOf(" ")));
    const comm = line.slice(line.indexOf("(") + 1, close);
    const f = line.slice(close + 2).split(" ");
    const io = line.match(/rchar: (\d+) wchar: (\d+)/);
    return {
      pid,
      comm,
      ppid: Number(f[1]),
      cpu: (Number(f[11]) + Number(f[12])) / hz,
      reapedCpu: (Number(f[13]) + Number(f[14])) / hz,
      rss: Number(f[21]) * 4096,
      read: Number(io?.[1] ?? 0),
      written: Number(io?.[2] ?? 0),
    };
  });
  const kids = new Map<number, typeof rows>();
  for (const r of rows) kids.set(r.ppid, [...kids.get(r.ppid) ?? [], r]);
  const result = new Map<number, ProcUse>();
  const byPid = new Map(rows.map((r) => [r.pid, r]));
  for (const root of roots) {
    for (const stack = [byPid.get(root)!].filter(Boolean); stack.length;) {
      const r = stack.pop()!;
      result.set(r.pid, r);
      stack.push(...kids.get(r.pid) ?? []);
    }
  }
  return result;
}

/** CPU-seconds the whole machine has spent busy (every core, user, system and interrupts) since it booted. */
export async function machineBusy(): Promise<number> {
  const out = await new Deno.Command("cat", { args: ["/proc/stat"], stdout: "piped", stderr: "null" }).output();
  const f = new TextDecoder().decode(out.stdout).split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  return (f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3] - f[4]) / 100;
}

/** One line per process: what it used between two treeCpu samples. */
export function usedBetween(before: Map<number, ProcUse>, after: Map<number, ProcUse>): string[] {
  const MiB = 2 ** 20;
  return [...after].map(([pid, u]) => {
    const b = before.get(pid) ?? { cpu: 0, read: 0, written: 0 };
    return `${pid} ${u.comm}: ${(u.cpu - b.cpu).toFixed(2)} CPU-s, read ${
      ((u.read - b.read) / MiB).toFixed(0)
    } MiB, wrote ${((u.written - b.written) / MiB).toFixed(0)} MiB`;
  });
}

/** A CPU profile of the inspector at `port`'s first target, from start() to stop(). */
export class Profiler {
  private ws!: WebSocket;
  private id = 0;
  private waiting = new Map<number, (v: unknown) => void>();
  constructor(readonly port: number) {}

  async start(intervalUs = 200) {
    const list = await (await fetch(`http://127.0.0.1:${this.port}/json/list`)).json();
    this.ws = new WebSocket(list[0].webSocketDebuggerUrl);
    await new Promise((r, j) => {
      this.ws.onopen = r;
      this.ws.onerror = j;
    });
    this.ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.id) this.waiting.get(m.id)?.(m.result);
    };
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.call("Profiler.start");
  }

  private call(method: string, params: unknown = {}): Promise<unknown> {
    const id = ++this.id;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((r) => this.waiting.set(id, r));
  }

  /** The process's Deno.memoryUsage() now, in MiB. */
  async memory(): Promise<Record<string, number>> {
    const r = await this.call("Runtime.evaluate", {
      expression: "JSON.stringify(Deno.memoryUsage())",
      returnByValue: true,
    }) as { result: { value: string } };
    const m = JSON.parse(r.result.value) as Record<string, number>;
    return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Math.round(v / 2 ** 20)]));
  }

  /** Stops and returns the top functions by self time, one per line. */
  async stop(top = 25): Promise<string> {
    const { profile } = await this.call("Profiler.stop") as {
      profile: {
        nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
        samples: number[];
        timeDeltas: number[];
      };
    };
    this.ws.close();
    const frame = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const self = new Map<string, number>();
    let total = 0;
    profile.samples.forEach((s, i) => {
      const f = frame.get(s)!;
      const key = `${f.functionName || "(anon)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
      const dt = profile.timeDeltas[i] ?? 0;
      self.set(key, (self.get(key) ?? 0) + dt);
      total += dt;
    });
    return [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([k, us]) => `${(us / 1000).toFixed(0).padStart(7)} ms ${(us / total * 100).toFixed(1).padStart(5)}%  ${k}`)
      .join("\n");
  }
}
