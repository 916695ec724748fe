/** vfs:distro:sys: the book's VFS API types, VfsRequest, VfsAction, VfsResponse, VfsError. */

export type SeekFrom = { Start: number } | { End: number } | { Current: number };

export type VfsAction =
  | "CreateDrive"
  | "CreateDir"
  | "CreateDirAll"
  | "CreateFile"
  | { OpenFile: { create: boolean } }
  | "CloseFile"
  | "Write"
  | "WriteAll"
  | "Append"
  | "SyncAll"
  | "Read"
  | "ReadDir"
  | "ReadToEnd"
  | { ReadExact: { length: number } }
  | "ReadToString"
  | { Seek: SeekFrom }
  | "RemoveFile"
  | "RemoveDir"
  | "RemoveDirAll"
  | { Rename: { new_path: string } }
  | "Metadata"
  | "AddZip"
  | { CopyFile: { new_path: string } }
  | "Len"
  | { SetLen: number }
  | "Hash"
  /** Beyond the book: a read at an offset (up to `length` bytes, fewer at the end), answered as Read. */
  | { ReadAt: { offset: number; length: number } }
  /** Beyond the book: the blob written at an offset; in order from the start, it keeps the file's SHA-256 running. */
  | { WriteAt: { offset: number } };

export interface VfsRequest {
  path: string;
  action: VfsAction;
}

export type FileType = "File" | "Directory" | "Symlink" | "Other";

export interface FileMetadata {
  file_type: FileType;
  len: number;
  /** Beyond the book, files only: when the file last changed, in ms since the epoch. */
  modified?: number;
}

export interface DirEntry {
  path: string;
  file_type: FileType;
}

export type VfsError =
  | { NoCap: { action: string; path: string } }
  | { BadBytes: { action: string; path: string } }
  | { BadRequest: { error: string } }
  | { ParseError: { error: string; path: string } }
  | { IOError: { error: string; path: string } }
  | { CapChannelFail: { error: string } }
  | { BadJson: { error: string } }
  | { NotFound: { path: string } }
  | { CreateDirError: { path: string; error: string } }
  | { Other: { error: string } };

export type VfsResponse =
  | "Ok"
  | { Err: VfsError }
  | "Read"
  | { SeekFrom: { new_offset: number } }
  | { ReadDir: DirEntry[] }
  | { ReadToString: string }
  | { Metadata: FileMetadata }
  | { Len: number }
  | { Hash: number[] };
