/**
 * Transfer sizes, chosen by measurement (`deno task bench transfer` sweeps
 * chunk sizes; README). A chunk's bytes stay in the kernels on both sides (a
 * VFS read sent on, a received chunk written), so a chunk costs messages, not
 * copies into the workers; several reads and writes are in flight at their
 * own offsets. The window bounds what a transfer holds in flight, whatever the
 * file's size: on the sender, read and not yet acknowledged.
 */
export const CHUNK_BYTES = 4 * 1024 * 1024;
export const WINDOW_BYTES = 16 * 1024 * 1024;
/** A receiver may ask for another chunk size (the benchmark sweeps them); within these bounds. */
export const MIN_CHUNK_BYTES = 16 * 1024;
export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
/** The window holds at least this many chunks of whatever size. */
export const WINDOW_CHUNKS = 4;

/** The chunk size to use when `asked` (from the receiver) may be anything. */
export function chunkSize(asked: unknown): number {
  return typeof asked === "number" && Number.isSafeInteger(asked)
    ? Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, asked))
    : CHUNK_BYTES;
}

/** Bytes a sender may have read and not yet had acknowledged, with chunks of `chunk` bytes. */
export function windowBytes(chunk: number): number {
  return Math.max(WINDOW_BYTES, WINDOW_CHUNKS * chunk);
}
/** A receiver that hears nothing from its sender for this long, once bytes flow, calls the transfer interrupted. */
export const STALL_MS = 5_000;
/**
 * How long a sender waits for a chunk's acknowledgement, in seconds. The
 * receiver acknowledges once the chunk is in its page cache (milliseconds);
 * a receiver silent this long has gone, and the sender stops instead of
 * showing a frozen upload.
 */
export const ACK_S = 15;
/** How often a sender hashing its file after the last chunk says it is still there (well within STALL_MS). */
export const HEARTBEAT_MS = 1_000;
/**
 * A receiver that hears nothing for this long (ms) asks its sender "Alive": a
 * sender whose node has gone is then known at once (SendError Offline) instead
 * of after STALL_MS; one that answers within PROBE_S seconds is only slow.
 */
export const PROBE_MS = 1_000;
export const PROBE_S = 3;
/** How long a receiver waits for the sender's offer, and for its SHA-256 once every byte is in. */
export const OFFER_MS = 120_000;
/** A worker that is given no work for this long exits (e.g. one restarted with its node). */
export const IDLE_MS = 30_000;
/** How often a worker tells its parent how far it is. */
export const PROGRESS_MS = 200;
