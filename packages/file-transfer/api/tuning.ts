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

/*
 * What peers may hold of this node's file transfer. The kernel runs at most
 * 64 processes per package (runtime/limits.ts): the main process, the owner's
 * own downloads (OWN_ACTIVE workers), peers' downloads (PEERS_ACTIVE senders,
 * PEER_ACTIVE of them for any one node), files this node pushed (PUSHES_ACTIVE)
 * and a few scripts fit within it, so peers can never take the workers the
 * owner's own transfers need.
 */
/** The owner's downloads that move at once; the rest wait their turn. */
export const OWN_ACTIVE = 16;
/** One node's downloads from here in flight at once: offers awaiting its answer, and sending workers. */
export const PEER_ACTIVE = 8;
/** One node's downloads waiting for a place beyond those; past this its requests are refused (Busy). */
export const PEER_QUEUE = 32;
/** All peers' downloads in flight at once, and waiting. */
export const PEERS_ACTIVE = 32;
export const PEERS_QUEUE = 256;
/** Downloads of files this node pushed (a grant the owner gave), in flight at once. */
export const PUSHES_ACTIVE = 8;
/** How long an offer waits for the receiver's Start (seconds); its place is then given to the next request. */
export const OFFER_EXPIRY_S = 20;
/** How long a request may wait for a place (ms) before it is told to try again later (within the receiver's OFFER_MS). */
export const QUEUED_MS = 90_000;
/** A sending worker tells its parent it is alive this often (ms); one silent for SENDER_SILENT_MS has gone. */
export const SENDER_BEAT_MS = 5_000;
export const SENDER_SILENT_MS = 30_000;
/** A receiver waits this long (ms) after its Start for the sender's first word (the provider starts its worker then). */
export const START_MS = 30_000;

/** The most entries (files and folders) a folder download may hold, and how deep its folders may nest. */
export const FOLDER_MAX_ENTRIES = 1000;
export const FOLDER_MAX_DEPTH = 16;
/** The most open (not finished) downloads this node keeps; beyond, a new one is refused until some finish. */
export const OWN_QUEUE = 2000;
