/**
 * A fake node in its own OS process (`hyperdeno boot-fake-node`), as
 * run-tests boots them: output kept to show when a test fails, ready once it
 * prints "node ready", stopped with SIGINT (its home goes unless --persist).
 */
import { hyperdenoCommand } from "./run_args.ts";

export class NodeProcess {
  output = "";
  private child: Deno.ChildProcess;
  private done: Promise<unknown>;

  constructor(readonly name: string, readonly port: number, args: string[], main?: string) {
    const command = hyperdenoCommand(["boot-fake-node", "-f", name, "-p", String(port), ...args], main);
    this.child = new Deno.Command(command.cmd, {
      args: command.args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const dec = new TextDecoder();
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const c of s) this.output += dec.decode(c, { stream: true });
    };
    this.done = Promise.all([pump(this.child.stdout), pump(this.child.stderr), this.child.status]);
  }

  /**
   * Resolves once the node is ready; rejects with its output if it exits or takes longer than `ms`: a bound for a
   * hung boot, which a busy machine's slow one never meets (a boot beside CPU hogs at a load average of 35 took 30 s).
   */
  async ready(ms = 120_000): Promise<void> {
    let exited = false;
    this.child.status.then(() => exited = true);
    const until = Date.now() + ms;
    while (!/node ready/.test(this.output)) {
      if (exited || Date.now() > until) {
        throw new Error(`${this.name} did not boot${exited ? "" : ` within ${ms / 1000} s`}:\n${this.output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop() {
    try {
      this.child.kill("SIGINT");
    } catch { /* gone */ }
    const killer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await this.done;
    clearTimeout(killer);
  }
}
