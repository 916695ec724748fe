/**
 * transfers:file-transfer:template.os [resume [ID] | cancel ID] — this node's
 * transfers with their state; resume tries interrupted or failed downloads
 * again now; cancel stops one.
 */
import { script } from "@hyperdeno/process_lib";
import type { TransferView } from "../api/types.ts";
import { ask, mainAddress, words } from "../api/script_call.ts";
import { transferTable } from "../api/format.ts";

const USAGE = "usage: transfers:file-transfer:template.os [resume [ID] | cancel ID]";

export default script(async (our, line) => {
  const { args } = words(line);
  try {
    if (args[0] === "resume") {
      const r = await ask<{ Resumed?: number }>(mainAddress(our), { Resume: { id: args[1] } });
      return `resuming ${r.Resumed ?? 0} download(s)`;
    }
    if (args[0] === "cancel" && args[1]) {
      const r = await ask<unknown>(mainAddress(our), { Cancel: { id: args[1] } });
      return r === "Ok" ? `cancelled ${args[1]}` : `transfers: no transfer ${args[1]} is moving`;
    }
    if (args.length) return USAGE;
    const r = await ask<{ Transfers?: TransferView[] }>(mainAddress(our), "Transfers");
    return transferTable(r.Transfers ?? []);
  } catch (e) {
    return `transfers: ${(e as Error).message}`;
  }
});
