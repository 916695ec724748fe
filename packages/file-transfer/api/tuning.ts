/**
 * Transfer sizes, chosen by measurement (scripts/bench/transfer.ts; numbers in
 * the README): one chunk per message, and how many bytes the sender may have
 * sent and not yet heard acknowledged. The window bounds the memory a transfer
 * holds on either side, whatever the file's size.
 */
export const CHUNK_BYTES = 1024 * 1024;
export const WINDOW_BYTES = 8 * 1024 * 1024;
/** A receiver that hears nothing from its sender for this long, once bytes flow, calls the transfer interrupted. */
export const STALL_MS = 5_000;
/** How long a receiver waits for the sender's offer (it hashes the whole file first). */
export const OFFER_MS = 120_000;
/** A worker that is given no work for this long exits (e.g. one restarted with its node). */
export const IDLE_MS = 30_000;
/** How often a worker tells its parent how far it is. */
export const PROGRESS_MS = 200;
