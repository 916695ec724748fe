/**
 * How one hyperdeno command starts another: this Deno, the node's flags,
 * main.ts. The flags are stated once, in deno.json's `hyperdeno` task (which
 * every other command's task goes through); this reads them from there.
 */
import config from "../deno.json" with { type: "json" };

/** The flags every command that boots a node or runs its tests carries (permissions, worker options, v8 flags). */
export const NODE_FLAGS: string[] = nodeFlags(config.tasks.hyperdeno);

export const RUN_ARGS = ["run", ...NODE_FLAGS, new URL("../main.ts", import.meta.url).pathname];

/** What `deno task test` (scripts/test.ts) gives each `deno test`: the node's flags, unchecked (`deno task check` checks). */
export const TEST_FLAGS = ["--no-check", ...NODE_FLAGS];

/** The flags of a task `deno <subcommand> <flags...> <entry> ...`: the words that start with "--". */
export function nodeFlags(task: string): string[] {
  const words = task.split(/\s+/);
  if (words[0] !== "deno") throw new Error(`deno.json's hyperdeno task should start with deno: ${task}`);
  const flags: string[] = [];
  for (const w of words.slice(2)) {
    if (!w.startsWith("--")) break;
    flags.push(w);
  }
  return flags;
}

/** Whether this is a compiled hyperdeno (`deno task compile`): its own executable runs commands, not `deno run`. */
export const COMPILED = !/(^|\/)deno(\.exe)?$/.test(Deno.execPath());

/** The executable and arguments that run a hyperdeno command (`main` replaces this checkout's main.ts). */
export function hyperdenoCommand(args: string[], main?: string): { cmd: string; args: string[] } {
  if (COMPILED && !main) return { cmd: Deno.execPath(), args };
  return { cmd: Deno.execPath(), args: ["run", ...NODE_FLAGS, main ?? RUN_ARGS[RUN_ARGS.length - 1], ...args] };
}
