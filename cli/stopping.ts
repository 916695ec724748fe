/**
 * What stopping a fake node does to its home, said in one line as it happens (Ctrl-C used to say nothing, and a
 * home full of downloads vanished silently): removed or kept, and what its drives hold.
 */
import { humanBytes } from "../packages/file-transfer/api/format.ts";

/** Drives that hold a package's code or scratch files, not what its user made or downloaded. */
const NOT_USER_DRIVES = new Set(["pkg", "tmp"]);

export interface DriveUsage {
  files: number;
  bytes: number;
  /** The names of the drives that hold files (e.g. "files", "partial"). */
  drives: string[];
}

/** Files and bytes in the home's user drives (<home>/vfs/<package>/<drive>/, the distro's own excepted). */
export function driveUsage(home: string): DriveUsage {
  const usage: DriveUsage = { files: 0, bytes: 0, drives: [] };
  for (const pkg of list(`${home}/vfs`)) {
    if (!pkg.isDirectory || pkg.name === "distro:sys") continue;
    for (const drive of list(`${home}/vfs/${pkg.name}`)) {
      if (!drive.isDirectory || NOT_USER_DRIVES.has(drive.name)) continue;
      const before = usage.files;
      walk(`${home}/vfs/${pkg.name}/${drive.name}`, usage);
      if (usage.files > before && !usage.drives.includes(drive.name)) usage.drives.push(drive.name);
    }
  }
  return usage;
}

function list(dir: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch {
    return [];
  }
}

function walk(dir: string, usage: DriveUsage) {
  for (const e of list(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) walk(path, usage);
    else if (e.isFile) {
      try {
        usage.bytes += Deno.statSync(path).size;
        usage.files++;
      } catch { /* gone meanwhile */ }
    }
  }
}

/** "3 files, 502 MiB in the files drive", or "no files in its drives". */
export function usageText(u: DriveUsage): string {
  if (u.files === 0) return "no files in its drives";
  const names = u.drives.length === 1
    ? `the ${u.drives[0]} drive`
    : `the ${u.drives.slice(0, -1).join(", ")} and ${u.drives[u.drives.length - 1]} drives`;
  return `${u.files} file${u.files === 1 ? "" : "s"}, ${humanBytes(u.bytes)} in ${names}`;
}

/** The line a fake node prints when it is told to stop. */
export function stoppingText(name: string, home: string, persist: boolean): string {
  const usage = usageText(driveUsage(home));
  return persist
    ? `stopping ${name}; its home ${home} stays (${usage}): boot with -o ${home} to resume it`
    : `stopping ${name}; removing its home ${home} (${usage}); --persist keeps it`;
}
