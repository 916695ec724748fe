/**
 * The `hyperdeno` command as a user has it: installed with `hyperdeno setup`
 * (deno install -g) into a temporary root, run from folders outside the
 * checkout, with nodes on free ports.
 */
import { cli, PipedProcess } from "./cli_helpers.ts";
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

/** A node started by the installed command, its terminal on a pipe, with the command's folder on PATH as setup says. */
export class ShellNode extends PipedProcess {
  constructor(bin: string, cwd: string, args: string[]) {
    const dir = bin.slice(0, bin.lastIndexOf("/"));
    super(bin, args, cwd, { PATH: `${dir}:${Deno.env.get("PATH") ?? ""}` });
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
