/**
 * The App Store's requests and responses in the reference's names and JSON shapes (Hyperdrive's
 * `app-store:sys-v2.wit`, serde's externally tagged enums, snake_case fields), shared by its processes and clients:
 *
 *   main:app-store:sys       LocalRequest → LocalResponse (kit's start-package: NewPackage, then Install)
 *   downloads:app-store:sys  DownloadRequest → DownloadResponse; between nodes the file-transfer worker protocol
 *
 * Fields hyperdeno adds beside the wit's are marked so.
 */

import type { OnchainMetadata, PackageId } from "./chain.ts";
export type { OnchainMetadata, OnchainProperties, PackageId } from "./chain.ts";

// ---------------------------------------------------------------- main

export type LocalRequest =
  /** Blob: the package's zip. kit's start-package sends it first. */
  | { NewPackage: { package_id: PackageId; mirror: boolean } }
  /** metadata null: a sideloaded package. */
  | { Install: { package_id: PackageId; metadata: OnchainMetadata | null; version_hash: string } }
  | { Uninstall: PackageId }
  | "Apis"
  | { GetApi: PackageId };

export type NewPackageResponse = "Success" | "NoBlob" | "InstallFailed" | "AlreadyExists";
export type InstallResponse = "Success" | "Failure";
export type UninstallResponse = "Success" | "Failure";
export type GetApiResponse = "Success" | "Failure";

export type LocalResponse =
  | { NewPackageResponse: NewPackageResponse }
  /** hyperdeno: beside it, what each process and script was granted (the runtime installer's lines). */
  | { InstallResponse: InstallResponse; requested?: string[] }
  | { UninstallResponse: UninstallResponse }
  | { ApisResponse: { apis: PackageId[] } }
  /** Blob on success: the package's API files, a zip (the reference sends its one WIT file). */
  | { GetApiResponse: GetApiResponse };

// ---------------------------------------------------------------- downloads

export type DownloadError =
  | "NoPackage"
  | "NotMirroring"
  | { HashMismatch: { desired: string; actual: string } }
  | "FileNotFound"
  | "WorkerSpawnFailed"
  | "HttpClientError"
  | "BlobNotFound"
  | "VfsError"
  | "Timeout"
  | "InvalidManifest"
  | "Offline";

export interface LocalDownloadRequest {
  package_id: PackageId;
  download_from: string;
  desired_version_hash: string;
  /** hyperdeno: mirrors to try, in order, after `download_from` fails (offline, refusing, or serving other bytes). */
  mirrors?: string[];
}

export interface DownloadCompleteRequest {
  package_id: PackageId;
  version_hash: string;
  err: DownloadError | null;
  /** hyperdeno: the mirror that served it, and what each one tried before it did. */
  from?: string | null;
  tries?: [string, string][];
}

export type AutoDownloadCompleteRequest =
  | { Success: { package_id: PackageId; version_hash: string; manifest_hash: string } }
  | { Err: { package_id: PackageId; version_hash: string; tries: [string, DownloadError | string][] } };

export interface ProgressUpdate {
  package_id: PackageId;
  version_hash: string;
  downloaded: number;
  total: number;
  /** hyperdeno: the mirror it comes from now, and where this attempt started (over 0: it resumed). */
  mirror?: string;
  resumed_from?: number;
}

export type DownloadRequest =
  | { MirrorCheck: PackageId }
  | { RemoteDownload: { package_id: PackageId; worker_address: string; desired_version_hash: string } }
  | { Progress: ProgressUpdate }
  | { Size: { package_id: PackageId; size: number } }
  | { LocalDownload: LocalDownloadRequest }
  | { AutoUpdate: { package_id: PackageId; metadata: OnchainMetadata } }
  | { DownloadComplete: DownloadCompleteRequest }
  | { AutoDownloadComplete: AutoDownloadCompleteRequest }
  | { GetFiles: PackageId | null }
  | { RemoveFile: { package_id: PackageId; version_hash: string } }
  /** Blob: the zip (hyperdeno: the reference's main writes it itself; here downloads owns the zips). */
  | { AddDownload: { package_id: PackageId; version_hash: string; mirror: boolean } }
  | { StartMirroring: PackageId }
  | { StopMirroring: PackageId };

export type Entry =
  | { File: { name: string; size: number; manifest: string } }
  | { Dir: { name: string; mirroring: boolean } };

export type DownloadResponse = "Success" | { GetFiles: Entry[] } | { Err: DownloadError };
