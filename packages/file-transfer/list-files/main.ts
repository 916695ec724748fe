/**
 * list-files:file-transfer:template.os [NODE] [FOLDER] — the files NODE (this
 * node when omitted) shares, as aligned columns with sizes in KiB/MiB.
 */
import { script } from "@hyperdeno/process_lib";
import type { FileInfo } from "../api/types.ts";
import { ask, mainAddress, words } from "../api/script_call.ts";
import { fileTable } from "../api/format.ts";
import { nodeRefusal } from "../api/nodes.ts";

const USAGE = "usage: list-files:file-transfer:template.os [NODE] [FOLDER]";

export default script(async (our, line) => {
  const { args, wrong } = words(line, USAGE);
  if (wrong) return wrong;
  if (args.length > 2) return `list-files takes a NODE and a FOLDER at most, not ${args.length} words; ${USAGE}`;
  const node = args[0] ?? our.node;
  try {
    // Said as the download script says it (the same sentence), not as a node that does not answer.
    const unknown = node === our.node ? null : await nodeRefusal(node);
    if (unknown) return `list-files: ${unknown}`;
    const r = await ask<{ ListFiles?: FileInfo[]; Err?: string; more?: true }>(mainAddress(our, node), {
      ListFiles: { path: args[1] ?? "" },
    });
    if (r.Err) return `list-files: ${r.Err}`;
    const table = fileTable(args[1] ? `${node}:${args[1]}/` : node, r.ListFiles ?? []);
    return r.more ? `${table}\n(the first ${r.ListFiles?.length} entries: list a folder to see the rest)` : table;
  } catch (e) {
    return `list-files: ${(e as Error).message}`;
  }
});
