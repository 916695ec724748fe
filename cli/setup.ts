/**
 * `setup` (`deno task install`): puts a `hyperdeno` command on PATH that runs
 * this checkout's main.ts with the node's flags, from any folder. It runs
 * `deno install -g` with the flags stated once, in deno.json's hyperdeno
 * task (run_args.ts reads them), and the checkout's deno.json as its config.
 */
import { type CommandSpec, parseFlags } from "./flags.ts";
import { COMPILED, NODE_FLAGS } from "./run_args.ts";
import { UsageError } from "./flags.ts";

export const spec: CommandSpec = {
  name: "setup",
  summary: "Install the `hyperdeno` command (deno install -g from this checkout)",
  usage: "hyperdeno setup [OPTIONS]",
  positionals: [],
  flags: [
    { long: "root", value: "DIR", help: "Install into DIR/bin instead of deno's default (~/.deno/bin)" },
    { long: "name", default: "hyperdeno", value: "NAME", help: "The command's name" },
    { long: "dry-run", bool: true, help: "Print the deno install command instead of running it" },
  ],
};

const REPO = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** The `deno install` arguments that make `name` run this checkout's CLI. */
export function installArgs(name: string, root?: string): string[] {
  return [
    "install",
    "-g",
    "-f",
    "-n",
    name,
    ...(root ? ["--root", root] : []),
    "--config",
    `${REPO}/deno.json`,
    ...NODE_FLAGS,
    `${REPO}/main.ts`,
  ];
}

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(spec, argv);
  if (COMPILED) {
    throw new UsageError(
      `this hyperdeno is compiled: copy it onto PATH instead (e.g. cp ${Deno.execPath()} ~/.local/bin/)`,
    );
  }
  const args = installArgs(String(flags.name), flags.root ? String(flags.root) : undefined);
  if (flags["dry-run"]) {
    console.log(`deno ${args.join(" ")}`);
    return 0;
  }
  const r = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" }).output();
  if (!r.success) {
    console.error(`setup: deno install failed (code ${r.code}); the command was: deno ${args.join(" ")}`);
    return 1;
  }
  const bin = flags.root ? `${flags.root}/bin` : "~/.deno/bin";
  console.log(
    `installed ${flags.name}: try \`${flags.name} --version\` (if the shell does not find it, add ${bin} to PATH)\n` +
      `  it runs this checkout, ${REPO}: after moving it (or to a fresh clone), run \`deno task install\` there again`,
  );
  return 0;
}
