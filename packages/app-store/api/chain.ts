/**
 * chain:app-store:sys's protocol, in the names and JSON shapes of Hyperdrive's `app-store:sys-v2.wit` (`chain`
 * interface) as serde writes them: variants externally tagged ("GetApps", {"GetApp": {...}}), records with
 * snake_case fields, options as null, a list of tuples as arrays of pairs.
 *
 *   {"GetApp": PackageId}          → {"GetApp": OnchainApp | null}
 *   "GetApps"                      → {"GetApps": OnchainApp[]}          (listed apps: metadata fetched and verified)
 *   "GetOurApps"                   → {"GetOurApps": OnchainApp[]}       (listed apps whose publisher is this node)
 *   {"StartAutoUpdate": PackageId} → "AutoUpdateStarted" | {"Err": "NoPackage"}
 *   {"StopAutoUpdate": PackageId}  → "AutoUpdateStopped" | {"Err": "NoPackage"}
 *   "Reset"                        → "ResetOk"                          (drops the index and reads the chain again)
 *
 * Added here (not in the wit): "GetUnlisted" → {"GetUnlisted": UnlistedApp[]}, the entries whose notes are on chain
 * but whose metadata could not be fetched or verified, each with its reason; "GetStatus" → {"GetStatus": ChainStatus};
 * and the ChainError "MalformedRequest" for a body that is no ChainRequest.
 */

/** The wit's standard package-id record. */
export interface PackageId {
  package_name: string;
  publisher_node: string;
}

export type ChainRequest =
  | { GetApp: PackageId }
  | "GetApps"
  | "GetOurApps"
  | { StartAutoUpdate: PackageId }
  | { StopAutoUpdate: PackageId }
  | "Reset"
  | "GetUnlisted"
  | "GetStatus";

export type ChainResponse =
  | { GetApp: OnchainApp | null }
  | { GetApps: OnchainApp[] }
  | { GetOurApps: OnchainApp[] }
  | "AutoUpdateStarted"
  | "AutoUpdateStopped"
  | "ResetOk"
  | { GetUnlisted: UnlistedApp[] }
  | { GetStatus: ChainStatus }
  | { Err: ChainError };

export type ChainError = "NoPackage" | "MalformedRequest";

/** An app as the chain lists it: its entry `<package>.<publisher>`, the entry's account, its two notes. */
export interface OnchainApp {
  package_id: PackageId;
  /** The entry's token-bound account (0x…, checksummed). */
  tba: string;
  /** The ~metadata-uri note, as text. */
  metadata_uri: string;
  /** The ~metadata-hash note, as text: 0x and 64 hex digits, keccak256 of the metadata's bytes. */
  metadata_hash: string;
  /** The metadata fetched from the URI whose keccak256 matched; null while not fetched (never listed so). */
  metadata: OnchainMetadata | null;
  auto_update: boolean;
  /** The reference's staking weight; this chain has no bindings contract, so always null. */
  binding_power: string | null;
}

export interface OnchainMetadata {
  name: string | null;
  description: string | null;
  image: string | null;
  external_url: string | null;
  animation_url: string | null;
  properties: OnchainProperties;
}

export interface OnchainProperties {
  package_name: string;
  publisher: string;
  current_version: string;
  mirrors: string[];
  /** [version, sha256 hex of that version's zip] pairs. */
  code_hashes: [string, string][];
  license: string | null;
  screenshots: string[] | null;
  wit_version: number | null;
  dependencies: string[] | null;
}

/** Why an entry with App Store notes is not listed (ours). */
export type UnlistedReason =
  | { HashMismatch: { expected: string; actual: string } }
  | { FetchFailed: string }
  | { TooLarge: number }
  | { NotJson: string }
  | { BadMetadata: string }
  | { BadUri: string }
  | { BadHash: string }
  | { WrongPackage: string };

export interface UnlistedApp {
  package_id: PackageId;
  metadata_uri: string;
  metadata_hash: string;
  reason: UnlistedReason;
}

/** Where the index stands (ours): the chain it reads and the last block it has read. */
export interface ChainStatus {
  chain_id: number | null;
  last_block: number;
  listed: number;
  unlisted: number;
}

/**
 * The metadata.json a publisher hosts (the book's, as kit and Hyperdrive's Erc721Metadata read it): code_hashes is
 * an object there, version → hash; OnchainProperties carries it as pairs.
 */
export interface Erc721Metadata {
  name?: string | null;
  description?: string | null;
  image?: string | null;
  external_url?: string | null;
  animation_url?: string | null;
  properties: {
    package_name: string;
    publisher: string;
    current_version: string;
    mirrors: string[];
    code_hashes: Record<string, string>;
    license?: string | null;
    screenshots?: string[] | null;
    wit_version?: number | null;
    dependencies?: string[] | null;
  };
}

/** The App Store's two notes, and the hash that tells a ~metadata-uri Note log (topic 3). */
export const METADATA_URI_NOTE = "~metadata-uri";
export const METADATA_HASH_NOTE = "~metadata-hash";

/** A metadata body larger than this is refused (the reference's are a few KiB). */
export const MAX_METADATA_BYTES = 256 * 1024;
/** A ~metadata-uri longer than this is refused. */
export const MAX_URI_LENGTH = 2048;

/** chain:app-store:sys on `node`. */
export const chainAddress = (node: string) => `${node}@chain:app-store:sys`;

/** "name:publisher" of a PackageId. */
export const packageIdString = (p: PackageId) => `${p.package_name}:${p.publisher_node}`;
