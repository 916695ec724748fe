/**
 * spawn(): a process starts a child in its own package from a bundled file in
 * its pkg drive. The child gets only capabilities its parent holds (or
 * issues), and parent and child may message each other.
 */
import type { SpawnArgs } from "../host/protocol.ts";
import {
  MESSAGING,
  packageOf,
  parseProcessId,
  type ProcessId,
  randomId,
  validateCapability,
  validateOnExit,
} from "../types.ts";
import { LIMITS } from "../limits.ts";
import { SpawnRefused } from "../errors.ts";
import type { Kernel } from "./kernel.ts";

export function spawn(k: Kernel, parent: ProcessId, a: SpawnArgs): ProcessId {
  const pkg = packageOf(parent);
  const name = a.name ?? String(randomId());
  const child = `${name}:${pkg}`;
  parseProcessId(child);
  if (k.processes.has(child)) throw new SpawnRefused("NameTaken", `${child} already exists`);
  const siblings = k.processes.ids().filter((p) => packageOf(p) === pkg).length;
  if (siblings >= LIMITS.processesPerPackage) {
    throw new SpawnRefused(
      "TooManyProcesses",
      `${pkg} already runs ${siblings} processes: let some children exit before spawning more`,
    );
  }
  const handle = k.code.normalize(a.wasm_path);
  if (!handle.startsWith(`${pkg}/`)) {
    throw new SpawnRefused("NoFileAtPath", `${a.wasm_path} is outside the ${pkg} package`);
  }
  if (!k.code.exists(handle)) throw new SpawnRefused("NoFileAtPath", a.wasm_path);
  const caps = (a.request_capabilities ?? []).map(validateCapability).filter((c) =>
    k.processes.hasCap(parent, c) || c.issuer === k.addr(parent)
  );
  const childAddr = k.addr(child);
  // The parent can always message its child, and the child its parent.
  caps.push({ issuer: k.addr(parent), params: MESSAGING });
  k.initializeProcess(child, {
    wasm_bytes_handle: handle,
    wit_version: null,
    on_exit: validateOnExit(a.on_exit ?? "None"),
    capabilities: caps,
    public: Boolean(a.public),
  });
  k.processes.grant(parent, [{ issuer: childAddr, params: MESSAGING }]);
  for (const g of a.grant_capabilities ?? []) {
    parseProcessId(g);
    k.processes.grant(g, [{ issuer: childAddr, params: MESSAGING }]);
  }
  k.runProcess(child);
  return child;
}
