/**
 * hyperdeno's command line: kit's commands for a Deno node.
 *   hyperdeno new | build | start-package | inject-message | boot-fake-node | run-tests | chain | fake-net | ...
 * Installed with `deno task install` (a `hyperdeno` on PATH), or `deno task hyperdeno <command>` in the checkout.
 */
import { type CommandSpec, helpText, UsageError } from "./cli/flags.ts";
import * as bootFakeNode from "./cli/boot_fake_node.ts";
import * as bootRealNode from "./cli/boot_real_node.ts";
import * as build from "./cli/build.ts";
import * as buildStartPackage from "./cli/build_start_package.ts";
import * as connect from "./cli/connect.ts";
import * as injectMessage from "./cli/inject_message.ts";
import * as newPackage from "./cli/new.ts";
import * as removePackage from "./cli/remove_package.ts";
import * as resetCache from "./cli/reset_cache.ts";
import * as runTests from "./cli/run_tests.ts";
import * as setup from "./cli/setup.ts";
import * as startPackage from "./cli/start_package.ts";
import * as viewApi from "./cli/view_api.ts";
import * as chain from "./cli/chain.ts";
import * as fakeNet from "./cli/fake_net.ts";
import { VERSION } from "./cli/version.ts";
import { ParseError } from "./runtime/types.ts";
import { Refusal } from "./runtime/errors.ts";

const COMMANDS = {
  "boot-fake-node": bootFakeNode,
  "boot-real-node": bootRealNode,
  "new": newPackage,
  "build": build,
  "start-package": startPackage,
  "build-start-package": buildStartPackage,
  "remove-package": removePackage,
  "inject-message": injectMessage,
  "run-tests": runTests,
  "view-api": viewApi,
  "connect": connect,
  "reset-cache": resetCache,
  "setup": setup,
  "chain": chain,
  "fake-net": fakeNet,
};
/** kit's short forms. */
const ALIASES: Record<string, keyof typeof COMMANDS> = {
  f: "boot-fake-node",
  e: "boot-real-node",
  n: "new",
  b: "build",
  s: "start-package",
  bs: "build-start-package",
  r: "remove-package",
  i: "inject-message",
  t: "run-tests",
  v: "view-api",
  node: "boot-fake-node",
};

function usage(): string {
  const short = (name: string) => Object.entries(ALIASES).filter(([a, c]) => c === name && a.length <= 2);
  const rows = Object.values(COMMANDS).map((c) => {
    const aliases = short(c.spec.name).map(([a]) => a);
    return `  ${c.spec.name.padEnd(21)}${c.spec.summary}${aliases.length ? ` [aliases: ${aliases.join(", ")}]` : ""}`;
  });
  return `Development toolkit for hyperdeno, a Hyperware-style node for Deno (kit's commands)\n\nUsage: hyperdeno <COMMAND>\n\nCommands:\n${
    rows.join("\n")
  }\n\nOptions:\n  -v, --version  Print version\n  -h, --help     Print help (a command's own: hyperdeno <COMMAND> --help)`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    console.log(usage());
    return 0;
  }
  if (name === "-v" || name === "--version" || name === "version") {
    console.log(`hyperdeno ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  const cmd = COMMANDS[(ALIASES[name] ?? name) as keyof typeof COMMANDS];
  if (!cmd) {
    // Hyperdrive's form: `hyperdeno path/to/home --port ... --rpc ... --password ...` boots a real node there.
    if (isHomePath(name)) return await runCommand(bootRealNode, rest, (argv) => bootRealNode.run(argv, name));
    console.error(
      `hyperdeno: unknown command "${name}"; \`hyperdeno --help\` lists the commands (a real node's home: ./${name})`,
    );
    return 2;
  }
  return await runCommand(cmd, rest, (argv) => cmd.run(argv));
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
  cmd: { spec: CommandSpec },
  rest: string[],
  run: (argv: string[]) => Promise<number>,
): Promise<number> {
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(helpText(cmd.spec));
    return 0;
  }
  try {
    return await run(rest);
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
