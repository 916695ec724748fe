/** What a files drive holds: every file under a folder, with folders and their total sizes. */
import { vfs } from "@hyperdeno/process_lib";
import type { FileInfo } from "./types.ts";

/** The most entries one listing returns: a drive with more is listed in part, and says so. */
export const MAX_ENTRIES = 10_000;

/**
 * Files and folders under `folder` of the drive at `drive` (`/pkg:pub/files`),
 * depth first; names relative to the drive. Symlinks and other oddities are skipped.
 */
export async function listFiles(drive: string, folder = ""): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  const prefix = drive.slice(1) + "/";
  const walk = async (dir: string): Promise<number> => {
    let total = 0;
    for (const e of await new vfs.Directory(dir).read()) {
      if (out.length >= MAX_ENTRIES) break;
      const name = e.path.startsWith(prefix) ? e.path.slice(prefix.length) : e.path;
      if (e.file_type === "File") {
        const { len } = await vfs.metadata(`/${e.path}`).catch(() => ({ len: -1 }));
        if (len < 0) continue; // gone meanwhile
        out.push({ name, size: len });
        total += len;
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
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
