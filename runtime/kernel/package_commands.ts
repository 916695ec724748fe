/**
 * hyperdeno's package commands to the kernel, for the App Store (main:app-store:sys) and only for holders of the
 * kernel's root capability: a process cannot write another package's pkg drive or process map entries itself, and
 * the runtime's installer is the one that is crash-safe (install.ts), so the App Store asks it to act.
 *
 *   {"InstallPackage": {"package_id": "chat:template.os", "path": "/app-store:sys/unpacked/<hash>"}}
 *     → {"InstalledPackage": InstallResult}: the package's files, unpacked by the asker in a folder of its own
 *       package's drives, installed and started as start-package does
 *   {"UninstallPackage": "chat:template.os"} → {"UninstalledPackage": ["p:chat:template.os", ...]}
 *     its processes stopped and gone from the map, its pkg drive and script record removed; its data drives stay
 */
import type { Kernel } from "./kernel.ts";
import type { KernelResponse } from "../api/kernel.ts";
import { packageOf, ParseError, parsePackageId, type ProcessId } from "../types.ts";
import { installDurably, readPkgDir, SCRIPT_RECORDS_DRIVE } from "../packages/install.ts";
import { settleHeap } from "./heap_pacer.ts";

const SEGMENT = /^[A-Za-z0-9._:-]+$/;

export async function packageCommand(
  k: Kernel,
  source: ProcessId,
  name: string,
  arg: unknown,
): Promise<KernelResponse> {
  if (name === "InstallPackage") {
    const { package_id, path } = (arg ?? {}) as { package_id?: unknown; path?: unknown };
    if (typeof package_id !== "string") throw new ParseError("InstallPackage.package_id must be a string");
    parsePackageId(package_id);
    if (package_id.endsWith(":sys")) throw new ParseError(`${package_id}: the :sys packages come with the node`);
    const own = `/${packageOf(source)}/`;
    const segs = typeof path === "string" && path.startsWith(own) ? path.slice(own.length).split("/") : [];
    if (!segs.length || segs.some((s) => s === "." || s === ".." || !SEGMENT.test(s))) {
      throw new ParseError(`InstallPackage.path must be a folder under ${own}`);
    }
    const files = readPkgDir(`${k.home}/vfs${path}`);
    const installed = await installDurably(k, package_id, files);
    settleHeap();
    return { InstalledPackage: installed };
  }
  const packageId = String(arg);
  parsePackageId(packageId);
  if (packageId.endsWith(":sys")) throw new ParseError(`${packageId} is part of the node and cannot be uninstalled`);
  const ids = k.processes.ids().filter((id) => id.endsWith(`:${packageId}`));
  for (const id of ids) k.killProcess(id);
  await k.processes.flush();
  await Deno.remove(`${k.home}/vfs/${packageId}/pkg`, { recursive: true }).catch(() => {});
  await Deno.remove(`${k.home}/vfs${SCRIPT_RECORDS_DRIVE}/${packageId}.json`).catch(() => {});
  return { UninstalledPackage: ids };
}
