/**
 * vfs:distro:sys — files under `<home>/vfs/<package-id>/<drive>/...`.
 * One VfsRequest in (JSON body, bytes in the blob), one VfsResponse out.
 *
 * Access: a package's own processes use its drives; anyone else needs the
 * drive's read or write capability (issued to whoever creates the drive, and
 * shareable by attaching it to a message). Runtime modules and holders of the
 * kernel's root capability pass.
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { ModuleWorker, WorkerRefusal } from "../../runtime/kernel/module_worker.ts";
import type { ZipRefusal } from "./zip_worker.ts";
import {
  type Capability,
  formatAddress,
  fromUtf8,
  type KernelMessage,
  type LazyLoadBlob,
  packageOf,
  type ProcessId,
  processOf,
} from "../../runtime/types.ts";
import { hostPath, parseVfsPath, type VfsPath, VfsPathError } from "./paths.ts";
import { checkReadSize, hashFile, readExactly, readWhole, seek, writeAll } from "./file_io.ts";
import {
  MAX_INFLIGHT_PER_PROCESS,
  MAX_OPEN_FILES,
  MAX_OPEN_FILES_PER_PROCESS,
  MAX_ZIP_ENTRIES,
  MAX_ZIP_UNPACKED_BYTES,
} from "./limits.ts";
import { Gates } from "./gates.ts";
import type { DirEntry, FileType, SeekFrom, VfsError, VfsResponse } from "../../runtime/api/vfs.ts";
import { VFS } from "../../runtime/api/processes.ts";
import { VfsFailure } from "./failure.ts";
import { answer, requestJson } from "../../runtime/kernel/module_answer.ts";
import { parseVariant } from "../../runtime/api/variant.ts";

const READ_ACTIONS = new Set([
  "Read",
  "ReadDir",
  "ReadToEnd",
  "ReadExact",
  "ReadToString",
  "Seek",
  "Metadata",
  "Len",
  "Hash",
  "CloseFile",
  "OpenFile",
]);

interface OpenFile {
  file: Deno.FsFile;
  path: string;
}

export class VfsModule implements RuntimeModule {
  readonly process = VFS;
  readonly public = false;
  readonly root: string;
  /** Open files per process, closed when the process exits. */
  private open = new Map<ProcessId, Map<string, OpenFile>>();
  private openCount = 0;
  /** Each process's operations run a few at a time, so one process cannot hold every descriptor in flight. */
  private gates = new Gates(MAX_INFLIGHT_PER_PROCESS);
  /** AddZip runs here, off the kernel's thread; started on first use. */
  private zipWorker: ModuleWorker | null = null;

  constructor(private k: KernelHandle) {
    this.root = `${k.home}/vfs`;
    Deno.mkdirSync(this.root, { recursive: true });
  }

  driveCap(kind: "read" | "write", drive: string): Capability {
    return { issuer: formatAddress(this.k.our, VFS), params: JSON.stringify({ kind, drive }) };
  }

  handle(km: KernelMessage) {
    if (!("Request" in km.message)) return;
    answer(this.k, km, this.gates.run(processOf(km.source), () => this.run(km)), {
      label: "vfs",
      otherError: (e) => ioError(e, "?"),
      noted: (e, err) => {
        if (!(e instanceof VfsLimit)) return false;
        // The terminal collapses a flood of these per process and kind.
        this.k.print(0, `vfs: ${km.source} reached a limit: ${JSON.stringify(err)}`, {
          source: km.source,
          kind: `vfs limit ${Object.keys(err as VfsError)[0]}`,
        });
        return true;
      },
    });
  }

  private async run(km: KernelMessage): Promise<[VfsResponse, LazyLoadBlob | null]> {
    const parsed = requestJson(km, (e) => new VfsFailure({ BadJson: { error: e.message } })) as {
      path?: unknown;
      action?: unknown;
    };
    if (!parsed || typeof parsed !== "object") throw new VfsFailure({ BadJson: { error: "expected {path, action}" } });
    const [name, arg] = parseVariant(parsed.action) ?? [];
    if (!name) throw new VfsFailure({ BadRequest: { error: "missing action" } });
    let path: VfsPath;
    try {
      path = parseVfsPath(parsed.path);
    } catch (e) {
      if (e instanceof VfsPathError) throw new VfsFailure({ ParseError: { error: e.message, path: e.path } });
      throw e;
    }
    const source = processOf(km.source);
    const remote = !km.source.startsWith(this.k.our + "@");
    if (remote) throw new VfsFailure({ NoCap: { action: name, path: path.path } });
    this.authorize(source, name, path);
    const host = hostPath(this.root, path);
    const blob = km.lazy_load_blob;
    return await this.act(source, name, arg, path, host, blob);
  }

  private authorize(source: ProcessId, action: string, p: VfsPath) {
    if (action === "CreateDrive") {
      if (packageOf(source) === p.packageId || this.k.hasCap(source, this.driveCap("write", p.drive))) return;
      throw new VfsFailure({ NoCap: { action, path: p.path } });
    }
    // Every process of a package uses its pkg and tmp drives; other drives
    // belong to whoever holds their capabilities (the creator, and those it shared them with).
    if (packageOf(source) === p.packageId && (p.driveName === "pkg" || p.driveName === "tmp")) return;
    const kind = READ_ACTIONS.has(action) ? "read" : "write";
    if (this.k.hasCap(source, this.driveCap(kind, p.drive))) return;
    if (this.k.hasCap(source, { issuer: formatAddress(this.k.our, VFS), params: '{"root":true}' })) return;
    throw new VfsFailure({ NoCap: { action, path: p.path } });
  }

  private async act(
    source: ProcessId,
    action: string,
    arg: unknown,
    p: VfsPath,
    host: string,
    blob: LazyLoadBlob | null,
  ): Promise<[VfsResponse, LazyLoadBlob | null]> {
    const ok: [VfsResponse, null] = ["Ok", null];
    const needBytes = () => {
      if (!blob) throw new VfsFailure({ BadBytes: { action, path: p.path } });
      return blob.bytes;
    };
    try {
      switch (action) {
        case "CreateDrive": {
          if (p.rest.length) {
            throw new VfsFailure({ BadRequest: { error: "CreateDrive takes /package:publisher/drive" } });
          }
          await this.noSymlinks(p);
          await Deno.mkdir(host, { recursive: true });
          this.k.grantCaps(source, [this.driveCap("read", p.drive), this.driveCap("write", p.drive)]);
          return ok;
        }
        case "CreateDir":
          await this.noSymlinks(p);
          await Deno.mkdir(host).catch((e) => {
            throw new VfsFailure({ CreateDirError: { path: p.path, error: (e as Error).message } });
          });
          return ok;
        case "CreateDirAll":
          await this.noSymlinks(p);
          await Deno.mkdir(host, { recursive: true });
          return ok;
        case "CreateFile":
          await this.noSymlinks(p);
          await this.openFile(source, p, host, { write: true, read: true, create: true, truncate: true });
          return ok;
        case "OpenFile": {
          const create = Boolean((arg as { create?: unknown })?.create);
          await this.noSymlinks(p);
          await this.openFile(source, p, host, { read: true, write: true, create });
          return ok;
        }
        case "CloseFile":
          this.closeFile(source, p.path);
          return ok;
        case "Write": {
          const bytes = needBytes();
          await this.noSymlinks(p);
          // Whole-file writes replace atomically: a crash leaves the old file or the new one.
          const tmp = `${host}.vfs-tmp-${crypto.randomUUID().slice(0, 8)}`;
          await Deno.writeFile(tmp, bytes);
          await Deno.rename(tmp, host);
          this.closeFile(source, p.path);
          return ok;
        }
        case "WriteAll": {
          const bytes = needBytes();
          const f = await this.handleFor(source, p, host);
          await writeAll(f, bytes);
          return ok;
        }
        case "Append": {
          const bytes = needBytes();
          await this.noSymlinks(p);
          const f = await Deno.open(host, { append: true, create: true });
          try {
            await writeAll(f, bytes);
          } finally {
            f.close();
          }
          return ok;
        }
        case "SyncAll": {
          const f = await this.handleFor(source, p, host);
          await f.sync();
          return ok;
        }
        case "Read":
          await this.noSymlinks(p);
          return ["Read", { mime: null, bytes: await readWhole(action, p.path, host) }];
        case "ReadToString":
          await this.noSymlinks(p);
          return [{ ReadToString: fromUtf8(await readWhole(action, p.path, host)) }, null];
        case "ReadToEnd": {
          const f = await this.handleFor(source, p, host);
          const pos = await f.seek(0, Deno.SeekMode.Current);
          const len = Math.max(0, (await f.stat()).size - pos);
          checkReadSize(action, p.path, len);
          return ["Read", { mime: null, bytes: await readExactly(f, len) }];
        }
        case "ReadExact": {
          const length = (arg as { length?: unknown })?.length;
          if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
            throw new VfsFailure({ BadRequest: { error: "ReadExact needs {length: bytes}" } });
          }
          checkReadSize(action, p.path, length);
          const f = await this.handleFor(source, p, host);
          const bytes = await readExactly(f, length);
          if (bytes.length < length) {
            throw new VfsFailure({ IOError: { error: "unexpected end of file", path: p.path } });
          }
          return ["Read", { mime: null, bytes }];
        }
        case "ReadDir": {
          await this.noSymlinks(p);
          const out: DirEntry[] = [];
          for await (const e of Deno.readDir(host)) {
            if (e.name.includes(".vfs-tmp-")) continue;
            out.push({ path: `${p.path}/${e.name}`.slice(1), file_type: fileType(e) });
          }
          out.sort((a, b) => a.path < b.path ? -1 : 1);
          return [{ ReadDir: out }, null];
        }
        case "Seek": {
          const f = await this.handleFor(source, p, host);
          return [{ SeekFrom: { new_offset: await seek(f, arg as SeekFrom) } }, null];
        }
        case "RemoveFile":
          await this.noSymlinks(p);
          this.closeFile(source, p.path);
          await Deno.remove(host);
          return ok;
        case "RemoveDir":
          await this.noSymlinks(p);
          await Deno.remove(host);
          return ok;
        case "RemoveDirAll":
          await this.noSymlinks(p);
          if (!p.rest.length) {
            throw new VfsFailure({ BadRequest: { error: "remove a drive's contents, not the drive" } });
          }
          await Deno.remove(host, { recursive: true });
          return ok;
        case "Rename":
        case "CopyFile": {
          const to = this.secondPath(source, action, (arg as { new_path?: unknown })?.new_path);
          await this.noSymlinks(p);
          await this.noSymlinks(to);
          if (action === "Rename") await Deno.rename(host, hostPath(this.root, to));
          else await Deno.copyFile(host, hostPath(this.root, to));
          return ok;
        }
        case "Metadata": {
          await this.noSymlinks(p);
          const st = await Deno.lstat(host);
          return [{ Metadata: { file_type: fileType(st), len: st.size } }, null];
        }
        case "Len":
          await this.noSymlinks(p);
          return [{ Len: (await Deno.stat(host)).size }, null];
        case "SetLen": {
          if (typeof arg !== "number" || !Number.isSafeInteger(arg) || arg < 0) {
            throw new VfsFailure({ BadRequest: { error: "SetLen needs a length in bytes" } });
          }
          await this.noSymlinks(p);
          await Deno.truncate(host, arg);
          return ok;
        }
        case "Hash": {
          await this.noSymlinks(p);
          return [{ Hash: [...await hashFile(host)] }, null];
        }
        case "AddZip":
          await this.noSymlinks(p);
          await this.addZip(p, needBytes());
          return ok;
        default:
          throw new VfsFailure({ BadRequest: { error: `unknown action ${JSON.stringify(action)}` } });
      }
    } catch (e) {
      if (e instanceof VfsFailure) throw e;
      throw new VfsFailure(ioError(e, p.path));
    }
  }

  private secondPath(source: ProcessId, action: string, raw: unknown): VfsPath {
    let to: VfsPath;
    try {
      to = parseVfsPath(raw);
    } catch (e) {
      throw new VfsFailure({ ParseError: { error: (e as Error).message, path: String(raw) } });
    }
    this.authorize(source, action, to);
    return to;
  }

  /** Refuses a path any of whose existing parts is a symlink: nothing is followed out of a drive. */
  private async noSymlinks(p: VfsPath) {
    let cur = `${this.root}/${p.packageId}`;
    for (const seg of [p.driveName, ...p.rest]) {
      cur += `/${seg}`;
      try {
        if ((await Deno.lstat(cur)).isSymlink) {
          throw new VfsFailure({ BadRequest: { error: `${p.path} passes through a symlink` } });
        }
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return;
        throw e;
      }
    }
  }

  private async openFile(source: ProcessId, p: VfsPath, host: string, opts: Deno.OpenOptions) {
    this.closeFile(source, p.path);
    const held = this.open.get(source)?.size ?? 0;
    if (held >= MAX_OPEN_FILES_PER_PROCESS || this.openCount >= MAX_OPEN_FILES) {
      const who = held >= MAX_OPEN_FILES_PER_PROCESS
        ? `this process holds ${held} open files, the most one may`
        : `the node's processes hold ${this.openCount} open files, the most vfs allows`;
      throw new VfsLimit({ IOError: { error: `too many open files: ${who}; CloseFile some first`, path: p.path } });
    }
    const file = await Deno.open(host, opts);
    let files = this.open.get(source);
    if (!files) this.open.set(source, files = new Map());
    files.set(p.path, { file, path: p.path });
    this.openCount++;
    return file;
  }

  private async handleFor(source: ProcessId, p: VfsPath, host: string): Promise<Deno.FsFile> {
    const f = this.open.get(source)?.get(p.path);
    if (f) return f.file;
    await this.noSymlinks(p);
    return await this.openFile(source, p, host, { read: true, write: true });
  }

  private closeFile(source: ProcessId, path: string) {
    const files = this.open.get(source);
    const f = files?.get(path);
    if (f) {
      files!.delete(path);
      this.openCount--;
      try {
        f.file.close();
      } catch { /* already closed */ }
    }
  }

  private async addZip(p: VfsPath, bytes: Uint8Array) {
    const root = this.root;
    this.zipWorker ??= new ModuleWorker(new URL("./zip_worker.ts", import.meta.url), { read: [root], write: [root] });
    const limits = { entries: MAX_ZIP_ENTRIES, bytes: MAX_ZIP_UNPACKED_BYTES };
    try {
      await this.zipWorker.call("extract", root, p.path, bytes, limits);
    } catch (e) {
      const refusal = e instanceof WorkerRefusal ? e.variant as ZipRefusal : null;
      if (refusal && "limit" in refusal) {
        throw new VfsLimit({
          BadRequest: {
            error: `AddZip refused: ${refusal.limit} (at most ${MAX_ZIP_ENTRIES} entries and ${
              MAX_ZIP_UNPACKED_BYTES / 2 ** 20
            } MiB unpacked)`,
          },
        });
      }
      if (refusal) throw new VfsFailure({ ParseError: { error: refusal.path, path: p.path } });
      const why = (e as Error).message;
      throw new VfsFailure({ BadRequest: { error: `AddZip: not an archive this node unpacks: ${why}` } });
    }
  }

  processExited(process: ProcessId) {
    const files = this.open.get(process);
    if (!files) return;
    this.openCount -= files.size;
    for (const f of files.values()) {
      try {
        f.file.close();
      } catch { /* already closed */ }
    }
    this.open.delete(process);
  }

  shutdown() {
    for (const id of [...this.open.keys()]) this.processExited(id);
    this.zipWorker?.terminate();
  }
}

function fileType(e: { isFile: boolean; isDirectory: boolean; isSymlink: boolean }): FileType {
  return e.isSymlink ? "Symlink" : e.isFile ? "File" : e.isDirectory ? "Directory" : "Other";
}

/** A limit was reached: the offender gets the error, and the log says so. */
class VfsLimit extends VfsFailure {}

function ioError(e: unknown, path: string): VfsError {
  if (e instanceof Deno.errors.NotFound) return { NotFound: { path } };
  if (e instanceof VfsPathError) return { ParseError: { error: e.message, path: e.path } };
  return { IOError: { error: (e as Error)?.message ?? String(e), path } };
}
