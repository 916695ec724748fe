/**
 * push:file-transfer:template.os NAME NODE — offers NAME from this node's files
 * drive to NODE, which downloads it if it allows this node to push
 * (allow:file-transfer:template.os push OUR-NODE there).
 */
import { script } from "@hyperdeno/process_lib";
import { ask, mainAddress, words } from "../api/script_call.ts";

const USAGE = "usage: push:file-transfer:template.os NAME NODE";

export default script(async (our, line) => {
  const { args, wrong } = words(line, USAGE);
  if (wrong) return wrong;
  if (args.length !== 2) return `push takes a NAME and a NODE, not ${args.length} word(s); ${USAGE}`;
  const [name, node] = args;
  try {
    const r = await ask<{ Push?: { Ok?: null; Err?: string }; Err?: string }>(mainAddress(our), {
      Push: { name, target: node },
    }, 30);
    const err = r.Push?.Err ?? r.Err;
    return err !== undefined ? `push: ${err}` : `pushing ${name} to ${node}: it is downloading it`;
  } catch (e) {
    return `push: ${(e as Error).message}`;
  }
});
