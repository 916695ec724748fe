/**
 * The book's VFS helpers: createDrive, openFile, createFile, openDir,
 * metadata, removeFile..., and File / Directory. Every call is a request to
 * vfs:distro:sys; a VfsError comes back as a thrown VfsError.
 */
import { Request } from "./builders.ts";
import type { Message } from "./message.ts";
import { ourModule } from "./modules.ts";
import { VFS } from "../api/processes.ts";
import type { DirEntry, FileMetadata, SeekFrom, VfsAction, VfsResponse } from "../api/vfs.ts";

export type { DirEntry, FileMetadata, SeekFrom };

export class VfsError extends Error {
  override name = "VfsError";
  constructor(readonly error: unknown, readonly path: string) {
    super(`${path}: ${JSON.stringify(error)}`);
  }
}

const TIMEOUT = 60;

async function vfs(path: string, action: VfsAction, bytes?: Uint8Array): Promise<[VfsResponse, Uint8Array | null]> {
  const r = Request.to(ourModule(VFS)).json({ path, action });
  if (bytes) r.blobBytes(bytes);
  const resp = await answered(path, r);
  return [resp.json<VfsResponse>(), resp.blob()?.bytes ?? null];
}

/** The response to a VFS request; a VfsError thrown when it is an Err. */
async function answered(path: string, r: Request): Promise<Message> {
  const resp = await r.sendAndAwaitResponse(TIMEOUT);
  const body = resp.json<VfsResponse>();
  if (body && typeof body === "object" && "Err" in body) throw new VfsError(body.Err, path);
  return resp;
}

/** Creates (or opens) the drive `/package/name` and returns its path; the caller gets its capabilities. */
export async function createDrive(packageId: string, name: string): Promise<string> {
  const path = `/${packageId}/${name}`;
  await vfs(path, "CreateDrive");
  return path;
}

export class File {
  constructor(readonly path: string) {}
  /** The whole file. */
  async read(): Promise<Uint8Array> {
    return (await vfs(this.path, "Read"))[1] ?? new Uint8Array();
  }
  async readToString(): Promise<string> {
    return ((await vfs(this.path, "ReadToString"))[0] as { ReadToString: string }).ReadToString;
  }
  /** From the cursor to the end. */
  async readToEnd(): Promise<Uint8Array> {
    return (await vfs(this.path, "ReadToEnd"))[1] ?? new Uint8Array();
  }
  /** Exactly `length` bytes from the cursor. */
  async readExact(length: number): Promise<Uint8Array> {
    return (await vfs(this.path, { ReadExact: { length } }))[1] ?? new Uint8Array();
  }
  /**
   * Up to `length` bytes at `offset`, fewer at the end of the file (the
   * cursor ends after them). Reads at offsets need not wait for each other:
   * the VFS takes them in turn.
   */
  async readAt(offset: number, length: number): Promise<Uint8Array> {
    return (await vfs(this.path, { ReadAt: { offset, length } }))[1] ?? new Uint8Array();
  }
  /**
   * readAt, with the bytes left in the kernel: the answer's blobInfo() says how
   * many there are, and `.blobOf(answer)` sends them on (to another node, to
   * writeAtFrom) without them entering this process.
   */
  readAtInKernel(offset: number, length: number): Promise<Message> {
    return answered(
      this.path,
      Request.to(ourModule(VFS)).json({ path: this.path, action: { ReadAt: { offset, length } } }).keepBlobInKernel(),
    );
  }
  /** Writes `bytes` at `offset` (at most 256 MiB past the file's end); the cursor ends after them. */
  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    await vfs(this.path, { WriteAt: { offset } }, bytes);
  }
  /** Writes the blob `msg` arrived with at `offset`, the kernel passing the bytes on (kept there or not). */
  async writeAtFrom(offset: number, msg: Message): Promise<void> {
    await answered(
      this.path,
      Request.to(ourModule(VFS)).json({ path: this.path, action: { WriteAt: { offset } } }).blobOf(msg),
    );
  }
  /** Replaces the whole file, atomically. */
  async write(bytes: Uint8Array): Promise<void> {
    await vfs(this.path, "Write", bytes);
  }
  /** Writes at the cursor. */
  async writeAll(bytes: Uint8Array): Promise<void> {
    await vfs(this.path, "WriteAll", bytes);
  }
  async append(bytes: Uint8Array): Promise<void> {
    await vfs(this.path, "Append", bytes);
  }
  async seek(pos: SeekFrom): Promise<number> {
    return ((await vfs(this.path, { Seek: pos }))[0] as { SeekFrom: { new_offset: number } }).SeekFrom.new_offset;
  }
  async setLen(len: number): Promise<void> {
    await vfs(this.path, { SetLen: len });
  }
  async len(): Promise<number> {
    return ((await vfs(this.path, "Len"))[0] as { Len: number }).Len;
  }
  async metadata(): Promise<FileMetadata> {
    return ((await vfs(this.path, "Metadata"))[0] as { Metadata: FileMetadata }).Metadata;
  }
  /**
   * SHA-256 of the file, computed off the kernel's thread; a file written in
   * order by writeAt / writeAtFrom answers at once (its hash was kept running).
   */
  async hash(): Promise<Uint8Array> {
    return Uint8Array.from(((await vfs(this.path, "Hash"))[0] as { Hash: number[] }).Hash);
  }
  async syncAll(): Promise<void> {
    await vfs(this.path, "SyncAll");
  }
  async close(): Promise<void> {
    await vfs(this.path, "CloseFile");
  }
}

export class Directory {
  constructor(readonly path: string) {}
  async read(): Promise<DirEntry[]> {
    return ((await vfs(this.path, "ReadDir"))[0] as { ReadDir: DirEntry[] }).ReadDir;
  }
}

/** Opens the file at `path`, creating it if `create`. */
export async function openFile(path: string, create: boolean): Promise<File> {
  await vfs(path, { OpenFile: { create } });
  return new File(path);
}

/** Creates the file at `path`, truncating what was there. */
export async function createFile(path: string): Promise<File> {
  await vfs(path, "CreateFile");
  return new File(path);
}

/** Opens the directory at `path`, creating it (and its parents) if `create`. */
export async function openDir(path: string, create: boolean): Promise<Directory> {
  if (create) await vfs(path, "CreateDirAll");
  else {
    const [m] = await vfs(path, "Metadata");
    if ((m as { Metadata: FileMetadata }).Metadata.file_type !== "Directory") {
      throw new VfsError({ BadRequest: { error: "not a directory" } }, path);
    }
  }
  return new Directory(path);
}

export async function metadata(path: string): Promise<FileMetadata> {
  return ((await vfs(path, "Metadata"))[0] as { Metadata: FileMetadata }).Metadata;
}

export async function removeFile(path: string): Promise<void> {
  await vfs(path, "RemoveFile");
}

export async function removeDir(path: string, all = false): Promise<void> {
  await vfs(path, all ? "RemoveDirAll" : "RemoveDir");
}

export async function rename(path: string, newPath: string): Promise<void> {
  await vfs(path, { Rename: { new_path: newPath } });
}

export async function copyFile(path: string, newPath: string): Promise<void> {
  await vfs(path, { CopyFile: { new_path: newPath } });
}

/** Unpacks a zip archive into the directory at `path`. */
export async function addZip(path: string, zip: Uint8Array): Promise<void> {
  await vfs(path, "AddZip", zip);
}

/** The capability to read or write a drive, as vfs:distro:sys issues it. */
export function driveCapability(kind: "read" | "write", drive: string) {
  return { issuer: ourModule(VFS), params: JSON.stringify({ kind, drive }) };
}
