/**
 * allow:file-transfer:template.os [--remove] ACTION NODE — lets NODE (or `*`,
 * everyone) list, download or push here; --remove takes it back. Alone, it
 * prints the allow-list. Default: everyone may list and download, nobody push.
 */
import { script } from "@hyperdeno/process_lib";
import type { AllowList } from "../api/types.ts";
import { ask, mainAddress, words } from "../api/script_call.ts";

const USAGE = "usage: allow:file-transfer:template.os [--remove] list|download|push NODE|*";

export default script(async (our, line) => {
  const { args, flagged, wrong } = words(line, USAGE, "--remove");
  if (wrong) return wrong;
  if (args.length !== 0 && args.length !== 2) {
    return `allow takes an ACTION and a NODE (or nothing), not ${args.length} word(s); ${USAGE}`;
  }
  try {
    const r = await ask<{ AllowList?: AllowList; Err?: string }>(
      mainAddress(our),
      args.length ? { [flagged ? "Disallow" : "Allow"]: { action: args[0], node: args[1] } } : "AllowList",
    );
    if (r.Err) return `allow: ${r.Err}\n${USAGE}`;
    const a = r.AllowList!;
    return (["list", "download", "push"] as const)
      .map((k) => `${k.padEnd(8)} ${a[k].length ? a[k].join(", ") : "(nobody)"}`)
      .join("\n");
  } catch (e) {
    return `allow: ${(e as Error).message}`;
  }
});
