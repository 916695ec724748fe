/**
 * Fetching an entry's metadata at its ~metadata-uri (http-client:distro:sys) and checking it against its
 * ~metadata-hash: keccak256 of the bytes as fetched, as the reference and kit compute it. Every failure is an
 * UnlistedReason, so the entry is kept as not listed with the reason, and the process goes on.
 */
import { httpClient } from "@hyperdeno/process_lib";
import type { Erc721Metadata, PackageId, UnlistedReason } from "../api/chain.ts";
import { MAX_METADATA_BYTES } from "../api/chain.ts";
import { checkHash, checkUri, MetadataRefused, parseMetadataBytes } from "../api/metadata.ts";
import { keccakHex } from "./hypermap.ts";

/** Seconds a metadata fetch may take. */
const FETCH_SECONDS = 20;

export type Verified = { ok: Erc721Metadata } | { err: UnlistedReason };

export async function fetchAndVerify(pkg: PackageId, uri: string, hash: string): Promise<Verified> {
  try {
    checkUri(uri);
    const expected = checkHash(hash);
    let body: Uint8Array;
    try {
      const r = await httpClient.fetch(uri, { timeout: FETCH_SECONDS });
      if (r.status !== 200) return { err: { FetchFailed: `HTTP ${r.status} from ${uri}` } };
      body = r.body;
    } catch (e) {
      const msg = e instanceof httpClient.HttpClientError ? JSON.stringify(e.error) : (e as Error).message;
      return { err: { FetchFailed: msg.slice(0, 300) } };
    }
    if (body.length > MAX_METADATA_BYTES) return { err: { TooLarge: body.length } };
    const actual = keccakHex(body);
    if (actual !== expected) return { err: { HashMismatch: { expected, actual } } };
    const m = parseMetadataBytes(body);
    const named = `${m.properties.package_name}:${m.properties.publisher}`;
    if (m.properties.package_name !== pkg.package_name || m.properties.publisher !== pkg.publisher_node) {
      return { err: { WrongPackage: `${named}, not ${pkg.package_name}:${pkg.publisher_node}` } };
    }
    return { ok: m };
  } catch (e) {
    if (e instanceof MetadataRefused) return { err: e.reason };
    return { err: { FetchFailed: String((e as Error).message).slice(0, 300) } };
  }
}
