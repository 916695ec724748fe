/** What a VFS action gets: the call, and the parts of the module it may use. */
import type { LazyLoadBlob, ProcessId } from "../../runtime/types.ts";
import type { FileType, VfsResponse } from "../../runtime/api/vfs.ts";
import type { VfsPath } from "./paths.ts";
import type { OpenFiles } from "./open_files.ts";
import type { ZipUnpacker } from "./add_zip.ts";
import type { Hashes } from "./hashes.ts";
import { VfsFailure } from "./failure.ts";

/** One authorized request: who asks, which action with which argument, on which path. */
export interface VfsCall {
  source: ProcessId;
  action: string;
  arg: unknown;
  p: VfsPath;
  /** The path on the host's disk. */
  host: string;
  blob: LazyLoadBlob | null;
}

/** What the actions use of the module. */
export interface Vfs {
  readonly root: string;
  readonly files: OpenFiles;
  readonly zip: ZipUnpacker;
  readonly hashes: Hashes;
  /** The runtime's folder for whole-file writes under way (emptied at boot: what a crash left there is garbage). */
  readonly scratch: string;
  /** Refuses a path any of whose existing parts is a symlink. */
  noSymlinks(p: VfsPath): Promise<void>;
  /** The file `source` holds open at `p`, opened now if it holds none. */
  handleFor(source: ProcessId, p: VfsPath, host: string): Promise<Deno.FsFile>;
  /** Gives `source` the read and write capabilities of `drive`. */
  grantDrive(source: ProcessId, drive: string): void;
  /** A second path an action names (Rename, CopyFile), parsed and authorized. */
  secondPath(source: ProcessId, action: string, raw: unknown): VfsPath;
}

export type VfsAnswer = [VfsResponse, LazyLoadBlob | null];
export type VfsActionHandler = (vfs: Vfs, c: VfsCall) => Promise<VfsAnswer>;

export const ok = (): VfsAnswer => ["Ok", null];

/** The request's blob, or BadBytes. */
export function needBytes(c: VfsCall): Uint8Array {
  if (!c.blob) throw new VfsFailure({ BadBytes: { action: c.action, path: c.p.path } });
  return c.blob.bytes;
}

export function fileType(e: { isFile: boolean; isDirectory: boolean; isSymlink: boolean }): FileType {
  return e.isSymlink ? "Symlink" : e.isFile ? "File" : e.isDirectory ? "Directory" : "Other";
}
