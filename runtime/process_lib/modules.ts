/** The runtime modules of this process's node, by address. */
import { moduleAddress } from "../api/processes.ts";
import { type Address, nodeOf, type ProcessId } from "../types.ts";
import { connect } from "./port.ts";

/** The address of runtime module `process` (e.g. VFS) on our node. */
export function ourModule(process: ProcessId): Address {
  return moduleAddress(nodeOf(connect().init.our), process);
}
