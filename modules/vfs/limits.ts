/**
 * What one process may ask of vfs:distro:sys at once. Each limit, when
 * reached, answers the offender with a VfsError and leaves everyone else alone.
 */
import { LIMITS } from "../../runtime/limits.ts";

/** Files one process may hold open (OpenFile, CreateFile, and files Seek/ReadExact/WriteAll keep open). */
export const MAX_OPEN_FILES_PER_PROCESS = 256;

/**
 * Files vfs holds open for all processes together: a quarter of the node's own
 * descriptor limit, so sockets, databases and package code always find one.
 */
export const MAX_OPEN_FILES = nodeFileBudget();

/** The most bytes one read returns (Read, ReadToString, ReadToEnd, ReadExact): what one blob may carry. */
export const MAX_READ_BYTES = LIMITS.blobBytes;

/**
 * How far past a file's end WriteAt may start: enough for writes that arrive a
 * little out of order, too little to make a file of holes look petabytes long.
 */
export const MAX_WRITE_AT_GAP = MAX_READ_BYTES;

/** Operations one process may have running in vfs at once; more wait their turn. */
export const MAX_INFLIGHT_PER_PROCESS = 16;

/**
 * AddZip: entries in one archive, and bytes they unpack to (zlib's real
 * output, not the headers' claims; the archive is unpacked in memory before
 * anything is written, so this is also the zip worker's peak memory).
 */
export const MAX_ZIP_ENTRIES = 10_000;
export const MAX_ZIP_UNPACKED_BYTES = 256 * 1024 * 1024;

function nodeFileBudget(): number {
  try {
    const line = Deno.readTextFileSync("/proc/self/limits").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isSafeInteger(soft) && soft > 0) return Math.max(64, Math.min(4096, Math.floor(soft / 4)));
  } catch { /* not Linux, or not readable: assume the common default of 1024 */ }
  return 256;
}
