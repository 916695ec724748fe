/**
 * hyperdeno's command line: kit's commands for a Deno node.
 *   hyperdeno new | build | start-package | inject-message | boot-fake-node | boot-real-node | run-tests | chain | ...
 * Installed with `deno task install` (a `hyperdeno` on PATH), or `deno task hyperdeno <command>` in the checkout.
 */
import { type CommandSpec, helpText, UsageError } from "./cli/flags.ts";
import { commandName, COMMANDS, usage } from "./cli/commands.ts";
import { VERSION } from "./cli/version.ts";
import { ParseError } from "./runtime/types.ts";
import { Refusal } from "./runtime/errors.ts";

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    console.log(await usage());
    return 0;
  }
  if (name === "-v" || name === "--version" || name === "version") {
    console.log(`hyperdeno ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  const full = commandName(name);
  if (!full) {
    // Hyperdrive's form: `hyperdeno path/to/home --port ... --rpc ... --password ...` boots a real node there.
    if (isHomePath(name)) {
      const real = await import("./cli/boot_real_node.ts");
      return await runCommand(real.spec, rest, (args) => real.run(args, name));
    }
    console.error(
      `hyperdeno: unknown command "${name}"; \`hyperdeno --help\` lists the commands (a real node's home: ./${name})`,
    );
    return 2;
  }
  const cmd = await COMMANDS[full]();
  return await runCommand(cmd.spec, rest, (args) => cmd.run(args));
}

/** A path to a node's home, as Hyperdrive takes it: one with a slash, or a folder here that holds a node. */
function isHomePath(word: string): boolean {
  if (word.startsWith("-")) return false;
  if (word.includes("/")) return true;
  try {
    return Deno.statSync(`${word}/identity.json`).isFile;
  } catch {
    return false;
  }
}

async function runCommand(
  spec: CommandSpec,
  rest: string[],
  run: (argv: string[]) => Promise<number>,
): Promise<number> {
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(helpText(spec));
    return 0;
  }
  try {
    return await run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${spec.name}: ${e.message} (\`hyperdeno ${spec.name} --help\` for options)`);
      return 2;
    }
    if (e instanceof ParseError || e instanceof Refusal) {
      console.error(`${spec.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
