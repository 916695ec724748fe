/**
 * Transfer sizes, chosen by measurement. Each chunk costs one VFS round trip
 * on each side (a read on the sender, a write on the receiver, one at a time
 * since both use the file's cursor), and on these machines that round trip
 * was ~17 ms plus ~15 ms per MiB under load (sender read_ms over 64 MiB: 2070
 * ms in 1 MiB chunks, 1244 ms in 4 MiB chunks), so bigger chunks move more per
 * round trip; the window keeps four in flight so the link never waits for a
 * read. `deno task bench transfer` sweeps 256 KiB, 1 MiB and 4 MiB (README).
 * The window bounds what a transfer holds in flight, whatever the file's size.
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
/** A receiver that hears nothing from its sender for this long, once bytes flow, calls the transfer interrupted. */
export const STALL_MS = 5_000;
/** How long a receiver waits for the sender's offer (it hashes the whole file first). */
export const OFFER_MS = 120_000;
/** A worker that is given no work for this long exits (e.g. one restarted with its node). */
export const IDLE_MS = 30_000;
/** How often a worker tells its parent how far it is. */
export const PROGRESS_MS = 200;
