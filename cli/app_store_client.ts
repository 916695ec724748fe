/**
 * The CLI's way through a node's App Store (main:app-store:sys), as kit's start-package and view-api take it:
 * NewPackage with the zip, then Install; Apis and GetApi. A node without the App Store answers Offline: null, and
 * the caller uses the node's own endpoints instead.
 */
import { decodeBase64, encodeBase64 } from "../runtime/bytes.ts";
import { postToNode } from "./node_client.ts";
import { UsageError } from "./flags.ts";

const MAIN = "main:app-store:sys";

/** The App Store's answer (body parsed, blob base64), or null when the node runs no App Store. */
async function askStore(
  port: number,
  body: unknown,
  blob: Uint8Array | null = null,
): Promise<{ body: Record<string, unknown>; blob: string | null } | null> {
  const { status, json } = await postToNode(port, "/rpc:distro:sys/message", {
    process: MAIN,
    node: null,
    body: JSON.stringify(body),
    blob: blob ? encodeBase64(blob) : null,
    expects_response: 60,
  });
  if (status !== 200 && json.error === "Offline") return null;
  if (status !== 200) throw new UsageError(`the node on port ${port} did not answer ${MAIN}: ${json.error}`);
  return { body: JSON.parse(String(json.body)), blob: (json.blob as string | null) ?? null };
}

const record = (packageId: string) => ({
  package_name: packageId.slice(0, packageId.indexOf(":")),
  publisher_node: packageId.slice(packageId.indexOf(":") + 1),
});

/** kit's start-package: NewPackage (the zip, mirrored), then Install. The grants' lines, or null: no App Store. */
export async function startThroughStore(
  port: number,
  packageId: string,
  /** The package's metadata.json, parsed. */
  meta: Record<string, unknown>,
  zip: Uint8Array,
  sha256: string,
): Promise<string[] | null> {
  const added = await askStore(port, { NewPackage: { package_id: record(packageId), mirror: true } }, zip);
  if (added === null) return null;
  if (added.body.NewPackageResponse !== "Success") {
    throw new UsageError(`the node on port ${port} did not take ${packageId}: ${JSON.stringify(added.body)}`);
  }
  const p = (meta.properties ?? {}) as Record<string, unknown>;
  const hashes = p.code_hashes && typeof p.code_hashes === "object" ? Object.entries(p.code_hashes) : [];
  const metadata = { ...meta, properties: { ...p, code_hashes: hashes } };
  const installed = await askStore(port, {
    Install: { package_id: record(packageId), metadata, version_hash: sha256 },
  });
  if (installed?.body.InstallResponse !== "Success") {
    throw new UsageError(`the node on port ${port} could not install ${packageId}: see the node's log for why`);
  }
  return (installed.body.requested as string[] | undefined) ?? [];
}

/** view-api's list: the packages with an API, or null (no App Store). */
export async function storeApis(port: number): Promise<string[] | null> {
  const r = await askStore(port, "Apis");
  if (r === null) return null;
  const apis = ((r.body.ApisResponse as { apis?: { package_name: string; publisher_node: string }[] })?.apis) ?? [];
  return apis.map((a) => `${a.package_name}:${a.publisher_node}`);
}

/** view-api's one package: its API files, {} when it has none, or null (no App Store). */
export async function storeApi(port: number, packageId: string): Promise<Record<string, string> | null> {
  const r = await askStore(port, { GetApi: record(packageId) });
  if (r === null) return null;
  if (r.body.GetApiResponse !== "Success" || !r.blob) return {};
  return JSON.parse(new TextDecoder().decode(decodeBase64(r.blob)));
}
