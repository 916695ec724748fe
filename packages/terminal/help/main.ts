/** help:terminal:sys — `help [COMMAND]`: the terminal's commands, one line each. */
import { script, splitArgs } from "@hyperdeno/process_lib";

const COMMANDS: [string, string][] = [
  ["hi <NODE> <MESSAGE>", "say hello: the message shows in that node's terminal"],
  ["m [-a SECONDS] <ADDRESS> <BODY>", "message a process (our@proc:pkg:pub for this node); -a awaits the answer"],
  ["top [PROCESS_ID]", "what runs here: state, restarts, messages; one process in detail"],
  ["peers", "the nodes we have a link with"],
  ["peer <NODE>", "what we know of one node"],
  ["net-diagnostics", "the networking module's report"],
  ["kill <PROCESS_ID>", "stop a process and remove it"],
  ["clear-state <PROCESS_ID>", "delete a process's saved state"],
  ["kfetch", "this node at a glance"],
  ["alias [NAME] [SCRIPT]", "name a script (alias alone lists aliases)"],
  ["cat <FILE_PATH>", "print a file of the VFS, e.g. cat terminal:sys/pkg/scripts.json"],
  ["echo <TEXT>", "print the text"],
  ["help [COMMAND]", "this list"],
];

export default script((_our, args) => {
  const [only] = splitArgs(args);
  const rows = only ? COMMANDS.filter(([usage]) => usage.split(" ")[0] === only) : COMMANDS;
  if (only && !rows.length) {
    return `help: no command ${only}; help lists them (any script runs as name:package:publisher <ARGS>)`;
  }
  const w = Math.max(...rows.map(([u]) => u.length));
  return [
    ...rows.map(([usage, what]) => `  ${usage.padEnd(w)}  ${what}`),
    ...(only ? [] : [
      "Any installed script runs as <name> <ARGS> (e.g. list-files), or <name>:<package>:<publisher> <ARGS> when " +
      "two packages have one of that name; `<command> --help` for details.",
    ]),
  ].join("\n");
});
