/**
 * main's local API in the reference's names and shapes (LocalRequest → LocalResponse), what kit's start-package and
 * view-api send: NewPackage (blob: the zip, kept by downloads), Install, Uninstall, Apis, GetApi.
 */
import { getBlob, KERNEL, Request, vfs } from "@hyperdeno/process_lib";
import type { LocalRequest, LocalResponse, PackageId } from "../api/types.ts";
import { idString, packageId, parseIdString, sha256Hex, versionHash } from "../api/ids.ts";
import type { Installer } from "./installer.ts";

export function isLocalRequest(body: unknown): body is LocalRequest {
  if (body === "Apis") return true;
  if (!body || typeof body !== "object") return false;
  const k = Object.keys(body);
  return k.length === 1 && ["NewPackage", "Install", "Uninstall", "GetApi"].includes(k[0]);
}

/** The answer, and the blob that goes with it (GetApi's files). */
export async function localRequest(
  node: string,
  installer: Installer,
  body: LocalRequest,
  say: (line: string) => void,
): Promise<[LocalResponse, Uint8Array | null]> {
  if (body === "Apis") return [{ ApisResponse: { apis: await apis(node) } }, null];
  if ("NewPackage" in body) {
    const p = packageId(body.NewPackage.package_id);
    const zip = getBlob()?.bytes;
    if (!zip) return [{ NewPackageResponse: "NoBlob" }, null];
    const hash = await sha256Hex(zip);
    const r = await Request.to(`${node}@downloads:app-store:sys`)
      .json({ AddDownload: { package_id: p, version_hash: hash, mirror: Boolean(body.NewPackage.mirror) } })
      .blobBytes(zip, "application/zip").sendAndAwaitResponse(60);
    return [{ NewPackageResponse: r.json<unknown>() === "Success" ? "Success" : "InstallFailed" }, null];
  }
  if ("Install" in body) {
    const p = packageId(body.Install.package_id);
    try {
      const r = await installer.install(p, versionHash(body.Install.version_hash), body.Install.metadata ?? null, null);
      for (const line of (r as { requested?: string[] }).requested ?? []) {
        say(`installed ${idString(p)}: granted ${line}`);
      }
      return [{ InstallResponse: "Success" }, null];
    } catch (e) {
      say(`install ${idString(p)} failed: ${(e as Error).message}`);
      return [{ InstallResponse: "Failure" }, null];
    }
  }
  if ("Uninstall" in body) {
    try {
      await installer.uninstall(packageId(body.Uninstall));
      return [{ UninstallResponse: "Success" }, null];
    } catch (e) {
      say(`uninstall failed: ${(e as Error).message}`);
      return [{ UninstallResponse: "Failure" }, null];
    }
  }
  const files = await apiFiles(packageId(body.GetApi));
  if (!files) return [{ GetApiResponse: "Failure" }, null];
  return [{ GetApiResponse: "Success" }, new TextEncoder().encode(JSON.stringify(files))];
}

/** The packages on the node (installed from the store or sideloaded) whose pkg/api holds files. */
async function apis(node: string): Promise<PackageId[]> {
  const r = await Request.to(`${node}@${KERNEL}`).json({ Debug: "ProcessMap" }).sendAndAwaitResponse(10);
  const map = r.json<{ Debug: { ProcessMap: Record<string, unknown> } }>().Debug.ProcessMap;
  const pkgs = [...new Set(Object.keys(map).map((id) => id.slice(id.indexOf(":") + 1)))]
    .filter((p) => p !== "distro:sys").sort();
  const out: PackageId[] = [];
  for (const p of pkgs) {
    const listed = await new vfs.Directory(`/${p}/pkg/api`).read().catch(() => []);
    if (listed.length) out.push(parseIdString(p));
  }
  return out;
}

/** GetApi's blob: `{"<file name>": "<text>"}` of the package's pkg/api (hyperdeno's APIs are TypeScript files). */
async function apiFiles(p: PackageId): Promise<Record<string, string> | null> {
  const dir = `/${idString(p)}/pkg/api`;
  const listed = await new vfs.Directory(dir).read().catch(() => null);
  if (!listed?.length) return null;
  const out: Record<string, string> = {};
  for (const e of listed) {
    if (e.file_type !== "File") continue;
    const path = e.path.startsWith("/") ? e.path : `/${e.path}`;
    out[path.slice(dir.length + 1)] = await new vfs.File(path).readToString();
  }
  return out;
}
