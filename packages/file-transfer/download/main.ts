/**
 * download:file-transfer:template.os NAME NODE [--overwrite] — downloads NAME
 * (a file or a folder) from NODE into this node's files drive. Progress shows
 * on the terminal's status line; the result is printed when it ends.
 */
import { script } from "@hyperdeno/process_lib";
import { ask, mainAddress, words } from "../api/script_call.ts";

const USAGE = "usage: download:file-transfer:template.os NAME NODE [--overwrite]";

export default script(async (our, line) => {
  const { args, flagged, wrong } = words(line, USAGE, "--overwrite");
  if (wrong) return wrong;
  if (args.length !== 2) return `download takes a NAME and a NODE, not ${args.length} word(s); ${USAGE}`;
  const [name, node] = args;
  try {
    const r = await ask<{ Download?: { Ok?: null; Err?: string }; transfer?: string; Err?: string }>(
      mainAddress(our),
      { Download: { name, target: node, is_requestor: true, overwrite: flagged } },
    );
    const err = r.Download?.Err ?? r.Err;
    if (err !== undefined) return `download: ${err}`;
    return `downloading ${name} from ${node} (transfer ${r.transfer})`;
  } catch (e) {
    return `download: ${(e as Error).message}`;
  }
});
