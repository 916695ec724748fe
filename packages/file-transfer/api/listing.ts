/** What a files drive holds: every file under a folder, with folders and their total sizes. */
import { vfs } from "@hyperdeno/process_lib";
import type { FileInfo } from "./types.ts";
import { FOLDER_MAX_DEPTH, FOLDER_MAX_ENTRIES } from "./tuning.ts";

/** The most entries one listing returns: a drive with more is listed in part (`more` says so). */
export const MAX_ENTRIES = 10_000;
/** Metadata asked of the VFS at once while listing one folder. */
const PARALLEL = 64;

/**
 * Files and folders under `folder` of the drive at `drive` (`/pkg:pub/files`),
 * depth first; names relative to the drive. Symlinks and other oddities are
 * skipped. At most MAX_ENTRIES: `more` is true when there were others.
 */
export async function listFiles(drive: string, folder = ""): Promise<{ files: FileInfo[]; more: boolean }> {
  const out: FileInfo[] = [];
  let more = false;
  const prefix = drive.slice(1) + "/";
  const walk = async (dir: string): Promise<number> => {
    let total = 0;
    const entries = await new vfs.Directory(dir).read();
    const shown = entries.slice(0, MAX_ENTRIES - out.length);
    if (shown.length < entries.length) more = true;
    // A folder's files are measured PARALLEL at a time: one VFS round trip after another made a large folder slow.
    const sizes = new Map<string, number>();
    const files = shown.filter((e) => e.file_type === "File");
    for (let i = 0; i < files.length; i += PARALLEL) {
      const batch = files.slice(i, i + PARALLEL);
      const lens = await Promise.all(batch.map((e) => vfs.metadata(`/${e.path}`).then((m) => m.len, () => -1)));
      batch.forEach((e, j) => sizes.set(e.path, lens[j]));
    }
    for (const e of shown) {
      if (out.length >= MAX_ENTRIES) {
        more = true;
        break;
      }
      const name = e.path.startsWith(prefix) ? e.path.slice(prefix.length) : e.path;
      if (e.file_type === "File") {
        const size = sizes.get(e.path) ?? -1;
        if (size < 0) continue; // gone meanwhile
        out.push({ name, size });
        total += size;
      } else if (e.file_type === "Directory") {
        const entry: FileInfo = { name, size: 0, is_dir: true };
        out.push(entry);
        entry.size = await walk(`/${e.path}`);
        total += entry.size;
      }
    }
    return total;
  };
  await walk(folder ? `${drive}/${folder}` : drive);
  return { files: out, more };
}

/** A folder passes one of a folder download's bounds: which, and what to tell the requester. */
export interface FolderBound {
  bound: "entries" | "depth";
  max: number;
  error: string;
}

/**
 * Whether the folder `name` of `node` passes a folder download's bounds.
 * Counted from directory reads alone, and given up as soon as a bound is
 * passed, so a folder of any size costs little to refuse.
 */
export async function folderTooLarge(node: string, drive: string, name: string): Promise<FolderBound | null> {
  let count = 0;
  const walk = async (dir: string, depth: number): Promise<FolderBound | null> => {
    if (depth > FOLDER_MAX_DEPTH) return folderBound(node, name, "depth");
    const entries = await new vfs.Directory(dir).read();
    count += entries.length;
    if (count > FOLDER_MAX_ENTRIES) return folderBound(node, name, "entries");
    for (const e of entries) {
      const passed = e.file_type === "Directory" ? await walk(`/${e.path}`, depth + 1) : null;
      if (passed) return passed;
    }
    return null;
  };
  return await walk(`${drive}/${name}`, 1);
}

/** Whether a folder listing a provider sent for `name` passes a folder download's bounds. */
export function folderListingTooLarge(node: string, name: string, entries: FileInfo[]): FolderBound | null {
  if (entries.length > FOLDER_MAX_ENTRIES) return folderBound(node, name, "entries");
  const base = name.split("/").length;
  let deepest = 0;
  for (const e of entries) deepest = Math.max(deepest, String(e.name).split("/").length - base);
  return deepest > FOLDER_MAX_DEPTH ? folderBound(node, name, "depth") : null;
}

function folderBound(node: string, name: string, bound: "entries" | "depth"): FolderBound {
  const max = bound === "entries" ? FOLDER_MAX_ENTRIES : FOLDER_MAX_DEPTH;
  const error = bound === "entries"
    ? `${node}: ${name} holds more than ${max} entries, the most one folder download takes: download its folders one at a time`
    : `${node}: ${name} nests folders more than ${max} deep, the most one folder download takes: download its deeper folders on their own`;
  return { bound, max, error };
}

/** A file's version, as an offer carries it: its length and modification time. */
export function fileVersion(meta: vfs.FileMetadata): string {
  return `${meta.len}:${meta.modified ?? ""}`;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
