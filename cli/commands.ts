/**
 * kit's commands and short forms, each module loaded only when its command runs: a command pays for its own
 * imports (the node's runtime, viem, solc, the bundler) and no other's, so `--version`, `view-api` or
 * `inject-message` start in a tenth of the time they took when main.ts imported every command.
 */
import type { CommandSpec } from "./flags.ts";

export interface Command {
  spec: CommandSpec;
  run(argv: string[]): Promise<number>;
}

/** The static specifiers keep `deno compile` embedding every command. */
export const COMMANDS: Record<string, () => Promise<Command>> = {
  "boot-fake-node": () => import("./boot_fake_node.ts"),
  "boot-real-node": () => import("./boot_real_node.ts"),
  "new": () => import("./new.ts"),
  "build": () => import("./build.ts"),
  "dev-ui": () => import("./dev_ui.ts"),
  "start-package": () => import("./start_package.ts"),
  "build-start-package": () => import("./build_start_package.ts"),
  "remove-package": () => import("./remove_package.ts"),
  "inject-message": () => import("./inject_message.ts"),
  "send": () => import("./send.ts"),
  "get": () => import("./get.ts"),
  "ls": () => import("./ls.ts"),
  "run-tests": () => import("./run_tests.ts"),
  "view-api": () => import("./view_api.ts"),
  "connect": () => import("./connect.ts"),
  "reset-cache": () => import("./reset_cache.ts"),
  "setup": () => import("./setup.ts"),
  "chain": () => import("./chain.ts"),
  "fake-net": () => import("./fake_net.ts"),
  "publish": () => import("./publish.ts"),
};

/** kit's short forms (and `node`, the task's name). */
export const ALIASES: Record<string, string> = {
  f: "boot-fake-node",
  e: "boot-real-node",
  n: "new",
  b: "build",
  d: "dev-ui",
  s: "start-package",
  bs: "build-start-package",
  r: "remove-package",
  i: "inject-message",
  t: "run-tests",
  v: "view-api",
  p: "publish",
  node: "boot-fake-node",
};

/** The command `name` (or its short form) stands for, or null. */
export function commandName(name: string): string | null {
  const full = ALIASES[name] ?? name;
  return Object.hasOwn(COMMANDS, full) ? full : null;
}

/** The top-level help: every command's summary, so every command is loaded (only for --help). */
export async function usage(): Promise<string> {
  const specs = await Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).spec));
  const rows = specs.map((spec) => {
    const aliases = Object.entries(ALIASES).filter(([a, c]) => c === spec.name && a.length <= 2).map(([a]) => a);
    return `  ${spec.name.padEnd(21)}${spec.summary}${aliases.length ? ` [aliases: ${aliases.join(", ")}]` : ""}`;
  });
  return `Development toolkit for hyperdeno, a Hyperware-style node for Deno (kit's commands)\n\nUsage: hyperdeno <COMMAND>\n\nCommands:\n${
    rows.join("\n")
  }\n\nOptions:\n  -v, --version  Print version\n  -h, --help     Print help (a command's own: hyperdeno <COMMAND> --help)`;
}
