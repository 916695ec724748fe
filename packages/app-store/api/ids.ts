/** Package ids as the wit's record and as hyperdeno's `name:publisher` string, checked at the boundary. */
import type { OnchainMetadata, PackageId } from "./types.ts";

const NAME = /^[a-z0-9-]{1,64}$/;
const PUBLISHER = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;
const SHA256 = /^[0-9a-f]{64}$/;

export class BadRequest extends Error {
  override name = "BadRequest";
}

/** `{"package_name", "publisher_node"}` from anything, or a BadRequest saying which field is wrong. */
export function packageId(v: unknown): PackageId {
  const o = v as Partial<PackageId> | null;
  if (!o || typeof o !== "object" || typeof o.package_name !== "string" || !NAME.test(o.package_name)) {
    throw new BadRequest(`package_id.package_name must be a-z, 0-9 and - (got ${JSON.stringify(o?.package_name)})`);
  }
  if (typeof o.publisher_node !== "string" || o.publisher_node.length > 253 || !PUBLISHER.test(o.publisher_node)) {
    throw new BadRequest(`package_id.publisher_node must be a node name (got ${JSON.stringify(o.publisher_node)})`);
  }
  return { package_name: o.package_name, publisher_node: o.publisher_node };
}

/** SHA-256 of bytes, in hex (a zip's code hash). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `chat:template.os` */
export function idString(p: PackageId): string {
  return `${p.package_name}:${p.publisher_node}`;
}

/** `chat:template.os` → the record, checked. */
export function parseIdString(s: string): PackageId {
  const i = String(s).indexOf(":");
  return packageId({ package_name: String(s).slice(0, i), publisher_node: String(s).slice(i + 1) });
}

export function versionHash(v: unknown): string {
  const s = String(v ?? "").toLowerCase().replace(/^0x/, "");
  if (!SHA256.test(s)) throw new BadRequest(`version_hash must be a SHA-256 in hex (got ${JSON.stringify(v)})`);
  return s;
}

/** Where downloads keeps a version's zip, in its files drive: `chat:template.os/<sha256>.zip`. */
export function zipName(p: PackageId, hash: string): string {
  return `${idString(p)}/${hash}.zip`;
}

/** The code hash a metadata.json gives its current version, or null. */
export function currentHash(m: OnchainMetadata): string | null {
  // The wit's list of [version, hash] pairs, or a metadata.json's object of them.
  const pairs = m?.properties?.code_hashes as unknown;
  const version = m?.properties?.current_version;
  const hit = Array.isArray(pairs)
    ? pairs.find((p) => Array.isArray(p) && p[0] === version)?.[1]
    : pairs && typeof pairs === "object"
    ? (pairs as Record<string, unknown>)[version]
    : undefined;
  try {
    return hit ? versionHash(hit) : null;
  } catch {
    return null;
  }
}

/** The nodes that serve a version: the metadata's mirrors, the publisher among them (first unless listed). */
export function mirrorsOf(m: OnchainMetadata, publisher: string): string[] {
  const listed = Array.isArray(m?.properties?.mirrors) ? m.properties.mirrors.filter((x) => typeof x === "string") : [];
  return [...new Set([publisher, ...listed])];
}
