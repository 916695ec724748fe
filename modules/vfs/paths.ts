/**
 * VFS path confinement. A VFS path is `/package:publisher/drive/rest...`;
 * it maps to `<home>/vfs/package:publisher/drive/rest...` and nowhere else.
 * `..`, `.`, empty segments, NUL bytes, backslashes and over-long names are
 * refused before the file system is touched; symlinks are refused where the
 * path is opened.
 */
import { isSafeName, parsePackageId } from "../../runtime/types.ts";

export class VfsPathError extends Error {
  override name = "VfsPathError";
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

export interface VfsPath {
  /** `pkg:publisher` */
  packageId: string;
  /** `/pkg:publisher/drive` */
  drive: string;
  driveName: string;
  /** segments below the drive */
  rest: string[];
  /** the canonical VFS path */
  path: string;
}

const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;

export function parseVfsPath(raw: unknown): VfsPath {
  if (typeof raw !== "string") throw new VfsPathError(String(raw), "path must be a string");
  if (new TextEncoder().encode(raw).length > MAX_PATH_BYTES) throw new VfsPathError(raw, "path is too long");
  if (raw.includes("\0")) throw new VfsPathError(raw, "path contains a NUL byte");
  if (raw.includes("\\")) throw new VfsPathError(raw, "path contains a backslash");
  const segs = raw.split("/");
  if (segs[0] === "") segs.shift();
  if (segs.length && segs[segs.length - 1] === "") segs.pop();
  for (const s of segs) {
    if (s === "" || s === "." || s === "..") {
      throw new VfsPathError(raw, `path segment "${s}" is not allowed: paths may not climb or repeat slashes`);
    }
    if (new TextEncoder().encode(s).length > MAX_SEGMENT_BYTES) {
      throw new VfsPathError(raw, "a path segment is too long");
    }
  }
  if (segs.length < 2) {
    throw new VfsPathError(raw, "path must name a package and a drive: /package:publisher/drive/...");
  }
  try {
    parsePackageId(segs[0]);
  } catch (e) {
    throw new VfsPathError(raw, (e as Error).message);
  }
  if (!isSafeName(segs[1])) throw new VfsPathError(raw, `bad drive name "${segs[1]}": use a-z, 0-9 and -`);
  return {
    packageId: segs[0],
    driveName: segs[1],
    drive: `/${segs[0]}/${segs[1]}`,
    rest: segs.slice(2),
    path: "/" + segs.join("/"),
  };
}

/** The host path of a parsed VFS path. */
export function hostPath(root: string, p: VfsPath): string {
  return `${root}${p.path}`;
}
