/** `ls NODE [FOLDER]`: the files another node shares, as list-files prints them in the node's terminal. */
import { fileTable } from "../packages/file-transfer/api/format.ts";
import type { FileInfo } from "../packages/file-transfer/api/types.ts";
import { type CommandSpec, parseFlags, portFlag } from "./flags.ts";
import { KinoFiles } from "./kino_files.ts";

export const spec: CommandSpec = {
  name: "ls",
  summary: "List the files a node shares (names and sizes)",
  usage: "hyperdeno ls [OPTIONS] <NODE> [FOLDER]",
  positionals: [
    {
      name: "<NODE>",
      help: "The node whose files to list, e.g. fake2.dev (this node's own name lists its own)",
      required: true,
    },
    { name: "[FOLDER]", help: "Only what is under this folder" },
  ],
  flags: [{
    long: "port",
    short: "p",
    default: "8080",
    value: "NODE_PORT",
    help: "localhost port of the node that asks",
  }],
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const [node, folder] = positionals;
  const ft = new KinoFiles(portFlag(flags.port));
  const q = new URLSearchParams({ node, path: folder ?? "" });
  const r = await ft.call(`remote?${q}`);
  console.log(fileTable(folder ? `${node}:${folder}/` : node, r.files as FileInfo[]));
  return 0;
}
