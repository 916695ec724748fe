/**
 * hyperdeno's command line: kit's commands for a Deno node.
 *   hyperdeno new | build | start-package | inject-message | boot-fake-node | run-tests | chain | fake-net | ...
 * Installed with `deno task install` (a `hyperdeno` on PATH), or `deno task hyperdeno <command>` in the checkout.
 */
import { helpText, UsageError } from "./cli/flags.ts";
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
    console.error(`hyperdeno: unknown command "${name}"; \`hyperdeno --help\` lists the commands`);
    return 2;
  }
  const cmd = await COMMANDS[full]();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(helpText(cmd.spec));
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${cmd.spec.name}: ${e.message} (\`hyperdeno ${cmd.spec.name} --help\` for options)`);
      return 2;
    }
    if (e instanceof ParseError || e instanceof Refusal) {
      console.error(`${cmd.spec.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
