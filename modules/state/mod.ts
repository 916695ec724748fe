/**
 * state:distro:sys — process state as a module, as Hyperdrive has it:
 * `{"GetState": "proc:pkg:pub"}` answers with the state in the blob,
 * `{"SetState": "proc:pkg:pub"}` stores the blob, `{"DeleteState": ...}`
 * removes it. Processes reach their own state through set_state/get_state;
 * this door is for the runtime and holders of the kernel's root capability.
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import type { StateStore } from "../../runtime/kernel/state_store.ts";
import {
  fromUtf8,
  jsonBytes,
  type KernelMessage,
  nodeOf,
  parseProcessId,
  processOf,
  ROOT,
} from "../../runtime/types.ts";
import { isRuntimeProcess, KERNEL, moduleAddress, STATE } from "../../runtime/api/processes.ts";
import { parseVariant } from "../../runtime/api/variant.ts";
import type { StateResponse } from "../../runtime/api/state.ts";

export class StateModule implements RuntimeModule {
  readonly process = STATE;
  readonly public = false;

  constructor(private k: KernelHandle, private store: StateStore) {}

  handle(km: KernelMessage) {
    if (!("Request" in km.message)) return;
    const expects = km.message.Request.expects_response !== null;
    const reply = (v: StateResponse, blob: Uint8Array | null = null) =>
      expects && this.k.respond(km, jsonBytes(v), blob ? { mime: null, bytes: blob } : null);
    const source = processOf(km.source);
    const trusted = nodeOf(km.source) === this.k.our &&
      (isRuntimeProcess(source) || this.k.hasCap(source, { issuer: moduleAddress(this.k.our, KERNEL), params: ROOT }));
    if (!trusted) return reply({ Err: "NoCap" });
    let action: unknown;
    try {
      action = JSON.parse(fromUtf8(km.message.Request.body));
      const [name, id] = parseVariant(action) ?? [];
      parseProcessId(id as string);
      if (name === "GetState") {
        const s = this.store.get(id as string);
        return s ? reply("GetState", s) : reply({ Err: { NotFound: id as string } });
      }
      // Answered once the state is on disk, or with the error that kept it off.
      const saved = (bytes: Uint8Array | null, done: "SetState" | "DeleteState") =>
        void this.store.set(id as string, bytes).then(
          () => reply(done),
          (e) => reply({ Err: { IOError: (e as Error).message } }),
        );
      if (name === "SetState") {
        if (!km.lazy_load_blob) return reply({ Err: "BadBytes" });
        return saved(km.lazy_load_blob.bytes, "SetState");
      }
      if (name === "DeleteState") return saved(null, "DeleteState");
      reply({ Err: { BadRequest: `unknown action ${JSON.stringify(name)}` } });
    } catch (e) {
      reply({ Err: { BadRequest: (e as Error).message } });
    }
  }
}
