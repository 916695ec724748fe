/**
 * transfers:file-transfer:template.os [resume [ID] | cancel ID] — this node's
 * transfers with their state; resume tries interrupted or failed downloads
 * again now; cancel stops one.
 */
import { script } from "@hyperdeno/process_lib";
import type { TransferView } from "../api/types.ts";
import { ask, mainAddress, words } from "../api/script_call.ts";
import { downloadsNamed, transferTable } from "../api/format.ts";

const USAGE = "usage: transfers:file-transfer:template.os [resume [ID] | cancel ID]";

export default script(async (our, line) => {
  const { args, wrong } = words(line, USAGE);
  if (wrong) return wrong;
  try {
    if (args[0] === "resume" && args.length <= 2) {
      const r = await ask<{ transfers?: TransferView[]; Err?: string }>(mainAddress(our), { Resume: { id: args[1] } });
      if (r.Err) return `transfers: ${r.Err}`;
      const resumed = r.transfers ?? [];
      if (resumed.length === 0) return "nothing to resume: no download is interrupted or failed";
      return `resuming ${downloadsNamed(resumed.map((t) => `${t.name} from ${t.peer} (${t.id})`))}`;
    }
    if (args[0] === "cancel" && args.length === 2) {
      const r = await ask<unknown>(mainAddress(our), { Cancel: { id: args[1] } });
      return r === "Ok" ? `cancelled ${args[1]}` : `transfers: no transfer ${args[1]} is moving`;
    }
    if (args.length) return `transfers takes resume [ID] or cancel ID, not ${args.join(" ")}; ${USAGE}`;
    const r = await ask<{ Transfers?: TransferView[] }>(mainAddress(our), "Transfers");
    return transferTable(r.Transfers ?? []);
  } catch (e) {
    return `transfers: ${(e as Error).message}`;
  }
});
