/**
 * The `hyperdeno` command as a user has it: installed with `hyperdeno setup`
 * (deno install -g) into a temporary root, run from folders outside the
 * checkout, with nodes on free ports.
 */
import { cli } from "./cli_helpers.ts";
import { assertEquals } from "./assert.ts";

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Installs hyperdeno into a fresh root and returns its bin path. */
export async function installHyperdeno(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "hyperdeno-kit-bin-" });
  const r = await cli("setup", "--root", root);
  assertEquals(r.code, 0, r.err + r.out);
  return `${root}/bin/hyperdeno`;
}

/** Runs the installed command in `cwd`. */
export async function run(bin: string, cwd: string, ...args: string[]): Promise<Run> {
  const r = await new Deno.Command(bin, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  return { code: r.code, out: d.decode(r.stdout), err: d.decode(r.stderr) };
}

/** A node started by the installed command, its terminal on a pipe. */
export class ShellNode {
  output = "";
  private child: Deno.ChildProcess;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private done: Promise<unknown>;

  constructor(bin: string, cwd: string, args: string[]) {
    this.child = new Deno.Command(bin, { args, cwd, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
    this.writer = this.child.stdin.getWriter();
    const dec = new TextDecoder();
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const c of s) this.output += dec.decode(c, { stream: true });
    };
    this.done = Promise.all([pump(this.child.stdout), pump(this.child.stderr)]);
  }

  async type(line: string) {
    await this.writer.write(new TextEncoder().encode(line + "\n"));
  }

  async waitFor(re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const m = this.output.match(re);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`node output never matched ${re}:\n${this.output}`);
  }

  async stop() {
    try {
      this.child.kill("SIGINT");
    } catch { /* gone */ }
    await this.writer.close().catch(() => {});
    await this.child.status;
    await this.done;
  }
}

/** Points a template's tests.toml at free ports (the book's 8080/8081/8545 may be taken on a shared machine). */
export async function freeTestPorts(toml: string, ports: number[]) {
  let text = await Deno.readTextFile(toml);
  let i = 0;
  text = text.replace(/^port = \d+$/gm, () => `port = ${ports[i++]}`);
  text = text.replace(/^fakechain_router = \d+$/m, `fakechain_router = ${ports[ports.length - 1]}`);
  await Deno.writeTextFile(toml, text);
}
