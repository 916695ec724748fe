/**
 * The runtime's own process ids (`<name>:distro:sys`) and the one way to
 * address them on a node. Nothing builds `${node}@vfs:distro:sys` by hand.
 */
import { type Address, formatAddress, type ProcessId } from "../types.ts";

/** The package every runtime module belongs to. */
export const DISTRO_SYS = "distro:sys";

export const KERNEL: ProcessId = "kernel:distro:sys";
export const NET: ProcessId = "net:distro:sys";
export const VFS: ProcessId = "vfs:distro:sys";
export const KV: ProcessId = "kv:distro:sys";
export const SQLITE: ProcessId = "sqlite:distro:sys";
export const TIMER: ProcessId = "timer:distro:sys";
export const STATE: ProcessId = "state:distro:sys";
export const HTTP_SERVER: ProcessId = "http-server:distro:sys";
export const HTTP_CLIENT: ProcessId = "http-client:distro:sys";
export const TERMINAL: ProcessId = "terminal:distro:sys";
export const ETH: ProcessId = "eth:distro:sys";

/** The address of runtime module (or kernel) `process` on `node`, e.g. `moduleAddress(node, VFS)`. */
export function moduleAddress(node: string, process: ProcessId): Address {
  return formatAddress(node, process);
}

/** Whether `process` is one of the runtime's own (a module or the kernel). */
export function isRuntimeProcess(process: ProcessId): boolean {
  return process.endsWith(`:${DISTRO_SYS}`);
}

/** The terminal package's app: the console's lines go to it, and the scripts it installs are known to the kernel. */
export const TERMINAL_APP: ProcessId = "terminal:terminal:sys";
