/**
 * hyperdeno's command line: kit's commands for a Deno node.
 *   deno task node | build | start-package | inject-message | fake-net | chain
 */
import { helpText, UsageError } from "./cli/flags.ts";
import * as bootFakeNode from "./cli/boot_fake_node.ts";
import * as build from "./cli/build.ts";
import * as injectMessage from "./cli/inject_message.ts";
import * as startPackage from "./cli/start_package.ts";
import * as chain from "./cli/chain.ts";
import * as fakeNet from "./cli/fake_net.ts";
import { ParseError } from "./runtime/types.ts";
import { Refusal } from "./runtime/errors.ts";

const COMMANDS = {
  "boot-fake-node": bootFakeNode,
  "build": build,
  "start-package": startPackage,
  "inject-message": injectMessage,
  "chain": chain,
  "fake-net": fakeNet,
};
const ALIASES: Record<string, keyof typeof COMMANDS> = {
  f: "boot-fake-node",
  b: "build",
  s: "start-package",
  i: "inject-message",
  node: "boot-fake-node",
};

function usage(): string {
  const rows = Object.values(COMMANDS).map((c) => `  ${c.spec.name.padEnd(18)}${c.spec.summary}`);
  return `hyperdeno: a Hyperware-style node for Deno\n\nUsage: main.ts <COMMAND> [OPTIONS]\n\nCommands:\n${
    rows.join("\n")
  }\n\nRun a command with --help for its options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    console.log(usage());
    return 0;
  }
  const cmd = COMMANDS[(ALIASES[name] ?? name) as keyof typeof COMMANDS];
  if (!cmd) {
    console.error(`unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(helpText(cmd.spec));
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${cmd.spec.name}: ${e.message}\n\n${helpText(cmd.spec)}`);
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
