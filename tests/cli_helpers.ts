/** Running hyperdeno's CLI as a user would: real subprocesses, real ports. */
import { RUN_ARGS } from "../cli/run_args.ts";
import { freePort } from "../runtime/free_port.ts";
export { freePort };
export const RUN_FLAGS = RUN_ARGS;

/** Flags that keep a test's node off a developer's own: a chain port of its own and a name that is not fake.dev. */
export const ownChain = (name: string): string[] => ["-c", String(freePort()), "-f", name];

export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), { args: [...RUN_FLAGS, ...args], stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

/** A command whose stdin is a pipe we type into and whose output we read as it comes. */
export class PipedProcess {
  protected child: Deno.ChildProcess;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  output = "";
  private done: Promise<void>;

  constructor(cmd: string, args: string[], cwd?: string, env?: Record<string, string>) {
    this.child = new Deno.Command(cmd, { args, cwd, env, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
    this.writer = this.child.stdin.getWriter();
    const d = new TextDecoder();
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const c of s) this.output += d.decode(c, { stream: true });
    };
    this.done = Promise.all([pump(this.child.stdout), pump(this.child.stderr)]).then(() => {});
  }

  /** Its OS process id (to read its memory from /proc). */
  get pid(): number {
    return this.child.pid;
  }

  async type(line: string) {
    await this.writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** Waits for output matching `re`; the bound only catches a hang, on a machine however busy. */
  async waitFor(re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const m = this.output.match(re);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`node output never matched ${re}:\n${this.output}`);
  }

  kill(signal: Deno.Signal = "SIGTERM") {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
  }

  /** Interrupts it (as Ctrl-C would) and waits until it has ended. */
  async stop(): Promise<Deno.CommandStatus> {
    this.kill("SIGINT");
    return await this.exited();
  }

  async exited(): Promise<Deno.CommandStatus> {
    await this.writer.close().catch(() => {});
    const s = await this.child.status;
    await this.done;
    return s;
  }
}

/**
 * A node in its own OS process, with its terminal on a pipe; `prefix` runs it
 * under another command (e.g. `ip netns exec NS`).
 */
export class NodeProcess extends PipedProcess {
  constructor(args: string[], prefix: string[] = []) {
    const node = [Deno.execPath(), ...RUN_FLAGS, "boot-fake-node", ...args];
    super([...prefix, ...node][0], [...prefix, ...node].slice(1));
  }
}
