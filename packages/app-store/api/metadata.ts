/**
 * Reading a published metadata.json: what the chain process lists and `hyperdeno publish` checks before it writes
 * the notes. Pure (no I/O), so both run the same checks; every refusal is an UnlistedReason value.
 */
import type { Erc721Metadata, OnchainMetadata, UnlistedReason } from "./chain.ts";
import { MAX_METADATA_BYTES, MAX_URI_LENGTH } from "./chain.ts";

/** A name label on Hypermap: 1-63 of a-z, 0-9, -. A publisher is labels joined by dots. */
const LABEL = /^[a-z0-9-]{1,63}$/;
const publisherOk = (s: string) => s.length <= 253 && s.split(".").every((l) => LABEL.test(l));
const HASH = /^0x[0-9a-f]{64}$/;
const SHA256 = /^(0x)?[0-9a-f]{64}$/i;

export class MetadataRefused extends Error {
  override name = "MetadataRefused";
  constructor(readonly reason: UnlistedReason) {
    super(describeReason(reason));
  }
}

/** One line for a reason, saying what to do. */
export function describeReason(r: UnlistedReason): string {
  const [k, v] = Object.entries(r)[0] as [string, unknown];
  switch (k) {
    case "HashMismatch": {
      const h = v as { expected: string; actual: string };
      return `the metadata's keccak256 is ${h.actual}, not ${h.expected} as ~metadata-hash says: publish again`;
    }
    case "TooLarge":
      return `the metadata is ${v} bytes; at most ${MAX_METADATA_BYTES}`;
    case "FetchFailed":
      return `the metadata could not be fetched: ${v}`;
    case "NotJson":
      return `the metadata is not JSON: ${v}`;
    case "BadMetadata":
      return `the metadata is not a package's metadata.json: ${v}`;
    case "BadUri":
      return `~metadata-uri is not an http(s) URI: ${v}`;
    case "BadHash":
      return `~metadata-hash is not 0x and 64 hex digits: ${v}`;
    case "WrongPackage":
      return `the metadata names another package: ${v}`;
  }
  return JSON.stringify(r);
}

/** A ~metadata-uri note's text, if it is an http(s) URI a node may fetch. */
export function checkUri(uri: string): string {
  const shown = JSON.stringify(uri.length > 80 ? `${uri.slice(0, 80)}…` : uri);
  if (uri.length > MAX_URI_LENGTH) throw new MetadataRefused({ BadUri: `${uri.length} characters` });
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new MetadataRefused({ BadUri: shown });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new MetadataRefused({ BadUri: shown });
  return uri;
}

/** A ~metadata-hash note's text: 0x and 64 lowercase hex digits (as kit writes it). */
export function checkHash(hash: string): string {
  const h = hash.toLowerCase();
  if (!HASH.test(h)) {
    throw new MetadataRefused({ BadHash: JSON.stringify(hash.length > 80 ? `${hash.slice(0, 80)}…` : hash) });
  }
  return h;
}

const optString = (v: unknown, field: string): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new MetadataRefused({ BadMetadata: `${field} is not a string` });
  return v;
};

const stringList = (v: unknown, field: string): string[] => {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw new MetadataRefused({ BadMetadata: `${field} is not a list of strings` });
  }
  return v;
};

/**
 * The metadata in `bytes`, checked: JSON, the book's fields with their types, a package name and publisher that
 * are Hypermap names, code hashes that are SHA-256 hex. Throws MetadataRefused.
 */
export function parseMetadataBytes(bytes: Uint8Array): Erc721Metadata {
  if (bytes.length > MAX_METADATA_BYTES) throw new MetadataRefused({ TooLarge: bytes.length });
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new MetadataRefused({ NotJson: (e as Error).message.split("\n")[0].slice(0, 120) });
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new MetadataRefused({ BadMetadata: "not an object" });
  }
  const m = raw as Record<string, unknown>;
  const p = m.properties as Record<string, unknown> | undefined;
  if (!p || typeof p !== "object" || Array.isArray(p)) throw new MetadataRefused({ BadMetadata: "no properties" });
  if (typeof p.package_name !== "string" || !LABEL.test(p.package_name)) {
    throw new MetadataRefused({ BadMetadata: "properties.package_name is not a Hypermap label (a-z, 0-9, -)" });
  }
  if (typeof p.publisher !== "string" || !publisherOk(p.publisher)) {
    throw new MetadataRefused({ BadMetadata: "properties.publisher is not a Hypermap name" });
  }
  if (typeof p.current_version !== "string" || !p.current_version) {
    throw new MetadataRefused({ BadMetadata: "properties.current_version is not a string" });
  }
  const hashes = p.code_hashes;
  if (!hashes || typeof hashes !== "object") throw new MetadataRefused({ BadMetadata: "no properties.code_hashes" });
  // The reference's JSON is an object; a list of pairs (the wit's shape) is read too.
  const pairs = Array.isArray(hashes) ? hashes : Object.entries(hashes as Record<string, unknown>);
  const code_hashes: Record<string, string> = {};
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
      throw new MetadataRefused({ BadMetadata: "properties.code_hashes is not version → hash" });
    }
    if (!SHA256.test(pair[1])) {
      throw new MetadataRefused({ BadMetadata: `code hash of ${pair[0]} is not 64 hex digits` });
    }
    code_hashes[pair[0]] = pair[1].replace(/^0x/i, "").toLowerCase();
  }
  const wit = p.wit_version;
  if (wit !== undefined && wit !== null && !(Number.isSafeInteger(wit) && (wit as number) >= 0)) {
    throw new MetadataRefused({ BadMetadata: "properties.wit_version is not a number" });
  }
  return {
    name: optString(m.name, "name"),
    description: optString(m.description, "description"),
    image: optString(m.image, "image"),
    external_url: optString(m.external_url, "external_url"),
    animation_url: optString(m.animation_url, "animation_url"),
    properties: {
      package_name: p.package_name,
      publisher: p.publisher,
      current_version: p.current_version,
      mirrors: p.mirrors === undefined ? [] : stringList(p.mirrors, "properties.mirrors"),
      code_hashes,
      license: optString(p.license, "properties.license"),
      screenshots: p.screenshots == null ? null : stringList(p.screenshots, "properties.screenshots"),
      wit_version: (wit ?? null) as number | null,
      dependencies: p.dependencies == null ? null : stringList(p.dependencies, "properties.dependencies"),
    },
  };
}

/** The wit's record of a metadata: code_hashes as [version, hash] pairs, sorted by version. */
export function toOnchainMetadata(m: Erc721Metadata): OnchainMetadata {
  const p = m.properties;
  return {
    name: m.name ?? null,
    description: m.description ?? null,
    image: m.image ?? null,
    external_url: m.external_url ?? null,
    animation_url: m.animation_url ?? null,
    properties: {
      package_name: p.package_name,
      publisher: p.publisher,
      current_version: p.current_version,
      mirrors: p.mirrors,
      code_hashes: Object.entries(p.code_hashes).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
      license: p.license ?? null,
      screenshots: p.screenshots ?? null,
      wit_version: p.wit_version ?? null,
      dependencies: p.dependencies ?? null,
    },
  };
}
