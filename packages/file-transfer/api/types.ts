/**
 * The file-transfer protocol in the template's names and JSON shapes (serde's
 * externally tagged enums), with the fields this package adds beside them:
 *
 *   file-transfer         ListFiles → {"ListFiles": [{name, size, is_dir}]}
 *   file-transfer-worker  {"Download": {name, target, is_requestor}} → {"Download": {"Ok": null} | {"Err": "..."}}
 *                         (a provider's refusal also says why, typed, beside it: "refused": DownloadRefusal)
 *                         {"Progress": {name, progress, ...}} (worker → its parent)
 *   between workers       {"Offer"}, {"Start"}, {"Chunk"} + blob, {"Digest"}, "Hashing", "Alive", "Recheck", "Done", {"Fail"}
 *                         (a receiver asks the provider's main "Alive" too, before the sender's first word)
 */

/** One entry of a ListFiles answer: `name` is relative to the files drive; folders carry their total size. */
export interface FileInfo {
  name: string;
  size: number;
  is_dir?: boolean;
}

/** Requests the main process answers (from its own node, or from peers the allow-list admits). */
export type TransferRequest =
  | "ListFiles"
  | { ListFiles: { path?: string } }
  /** Whether this node has `name` and lets the asker download it: {"Has": {"is_dir", "size"}} or {"Err": "..."}. */
  | { Has: { name: string } }
  | { Push: { name: string; target: string } }
  | { PushOffer: { name: string; size: number } }
  | { Allow: { node: string; action: Permission } }
  | { Disallow: { node: string; action: Permission } }
  | "AllowList"
  | "Transfers"
  /** How many transfers are in each state: {"Counts": TransferCounts}. */
  | "Counts"
  /** The state of each of these transfers (at most STATUS_IDS): {"Status": {"<id>": TransferStatus | null}}. */
  | { Status: { ids: string[] } }
  | { Resume: { id?: string } }
  | { Cancel: { id: string } }
  /** A receiver waiting for the sender it was offered: the answer "Alive" says this node is still there. */
  | "Alive";

export type TransferResponse =
  /** `more`: the listing stopped at its bound (listing.ts MAX_ENTRIES); a folder of it lists the rest. */
  | { ListFiles: FileInfo[]; more?: true }
  | { Err: string }
  | { Push: { Ok: null } | { Err: string } }
  | { PushOffer: { Ok: null } | { Err: string } }
  | { AllowList: AllowList }
  | { Transfers: TransferView[] }
  | { Counts: TransferCounts }
  | { Status: Record<string, TransferStatus | null> }
  | "Ok";

/** The most ids one Status request may ask about. */
export const STATUS_IDS = 10_000;

/**
 * Transfers by direction and state. pending, active and interrupted: how many
 * are in that state now. done, failed and cancelled: how many ever got there
 * (counts that only grow, whatever the list of transfers keeps, saved with the
 * downloads so a restart keeps them), so a tool that started N downloads can
 * tell when all have ended from two readings, without polling the list.
 */
export interface TransferCounts {
  download: Record<TransferStatus, number>;
  upload: Record<TransferStatus, number>;
}

/** What a peer may do here. `*` admits every node. */
export type Permission = "list" | "download" | "push";
export type AllowList = Record<Permission, string[]>;

/** The template's download-request, plus what resuming and choosing a destination need. */
export interface DownloadRequest {
  name: string;
  /** Requestor: the node (or its file-transfer address) to download from; provider: the receiving worker. */
  target: string;
  is_requestor: boolean;
  /** Replace a file of the same name here (default: refuse). */
  overwrite?: boolean;
  /** Set by the main process: the transfer this worker serves (its record, its partial file). */
  transfer?: string;
  /** The SHA-256 an earlier attempt was offered: a different one now means the file changed. */
  sha256?: string | null;
  /** The version (length and modification time) an earlier attempt was offered: likewise, known at the offer. */
  version?: string | null;
  /** Bytes per chunk to ask the sender for (default: tuning.ts); for measuring. */
  chunk?: number;
  /**
   * Set by a provider's main process, which made the offer itself: the
   * receiver's Start, and what was offered. The sending worker (started only
   * then) streams from there without offering again.
   */
  start?: { offset: number; chunk?: number; size: number; version: string };
}

/**
 * Why a provider turned a Download away, beside the template's
 * `{"Download": {"Err": "..."}}` as `"refused"`. Busy: the provider serves
 * and queues as many of the requesting node's downloads (limit "node"), or
 * of all peers' ("peers"), as it takes: try again later. FolderTooLarge: the
 * folder passes a bound: download its parts.
 */
export type DownloadRefusal =
  | { Busy: { limit: "node" | "peers"; max: number } }
  | { FolderTooLarge: { bound: "entries" | "depth"; max: number } };

/**
 * Why this node will not start a download it was asked for, beside the
 * answer's `{"Download": {"Err": "..."}}` as `"check"` (the web UI words each
 * its own way): the file would come from this node, the node is unknown, a
 * file of that name is here, the peer has no such file, or it refuses us.
 */
export interface DownloadCheck {
  code: "self" | "unknown" | "exists" | "missing" | "refused";
  error: string;
}

export interface ProgressRequest {
  name: string;
  /** Percent, as in the template. */
  progress: number;
  transfer?: string;
  bytes?: number;
  size?: number;
  sha256?: string | null;
  /** The version of the file the sender offered (its length and modification time). */
  version?: string | null;
  stats?: Record<string, number>;
  /** Where this attempt started: more than 0 when it resumed. */
  offset?: number;
}

/** How a worker's transfer ended, reported to its parent. */
export interface FinishedRequest {
  transfer: string;
  name: string;
  /** done; interrupted (the peer or link went away: resume later); failed (it will not succeed as is). */
  outcome: "done" | "interrupted" | "failed";
  error: string | null;
  /** Failed, and the partial file is kept to resume from (else it is removed: the failure is for good). */
  kept?: boolean;
  bytes: number;
  size: number | null;
  sha256: string | null;
  /** The name was a folder: these files under it are to be downloaded. */
  folder?: FileInfo[];
  /** Where the time went (milliseconds): for finding the bottleneck. */
  stats?: Record<string, number>;
  /** A sending worker's end (its place is free): "upload". */
  direction?: "upload";
}

export type WorkerRequest =
  | { Download: DownloadRequest }
  | { Progress: ProgressRequest }
  | { Finished: FinishedRequest };

export type WorkerResponse = { Download: { Ok: null } | { Err: string } } | "Progress";

/**
 * Between the two workers of one transfer. The sender offers the file, its
 * SHA-256 unknown (null) when it hashes while the chunks flow, as ours does:
 * then the SHA-256 follows the last chunk (Digest), and "Hashing" says the
 * sender is alive while it finishes it. A receiver also takes an Offer that
 * carries the SHA-256. A provider's main process makes the offer itself and
 * starts its sending worker once the receiver answers: `sender` names that
 * worker (on the same node), from which the chunks will come.
 */
export type InternalRequest =
  | { Offer: { name: string; size: number; sha256: string | null; version?: string; sender?: string } }
  | { Digest: { sha256: string } }
  | { Folder: FileInfo[] }
  | { Chunk: ChunkRequest }
  | { Fail: string }
  | "Hashing"
  | "Alive"
  | "Recheck"
  | "Done";

export type InternalResponse =
  | { Start: { offset: number; chunk?: number } }
  | "Ack"
  | { Recheck: { sha256: string | null } }
  | { Err: string };

export interface ChunkRequest {
  name: string;
  offset: number;
  length: number;
}

export type TransferStatus = "pending" | "active" | "interrupted" | "done" | "failed" | "cancelled";

/** One transfer as the main process keeps it, and as a UI or the transfers script reads it. */
export interface TransferView {
  id: string;
  direction: "download" | "upload";
  peer: string;
  name: string;
  status: TransferStatus;
  bytes: number;
  size: number | null;
  sha256: string | null;
  /** Bytes per second, smoothed. */
  speed: number;
  error: string | null;
  started: number;
  updated: number;
  overwrite: boolean;
  attempts: number;
  /** The version of the file the sender last offered, for the next attempt to compare. */
  version?: string | null;
  /** The chunk size asked for (when not the default). */
  chunk?: number;
  /** Where the latest attempt started (more than 0: it resumed a partial file). */
  resumed_from?: number;
  /** Where the last attempt's time went (milliseconds), once it ended. */
  stats?: Record<string, number>;
  /** Milliseconds the download spent moving, over all its attempts (not the time its peer was away). */
  moving_ms?: number;
  /** A folder: how many files under it (each became a download of its own); size is their sum. */
  files?: number;
  /** Failed with its partial file kept: resuming goes on from there (else a resume starts over). */
  resumable?: boolean;
}

/** serde's Result as JSON. */
export type Result<E = string> = { Ok: null } | { Err: E };

export const PROCESS_NAME = "file-transfer";
export const WORKER_NAME = "file-transfer-worker";
