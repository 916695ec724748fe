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
import {
  type Capability,
  formatAddress,
  type KernelMessage,
  type LazyLoadBlob,
  packageOf,
  type ProcessId,
  processOf,
} from "../../runtime/types.ts";
import type { VfsError, VfsResponse } from "../../runtime/api/vfs.ts";
import { VFS } from "../../runtime/api/processes.ts";
import { parseVariant } from "../../runtime/api/variant.ts";
import { answer, requestJson } from "../../runtime/kernel/module_answer.ts";
import { hostPath, parseVfsPath, type VfsPath, VfsPathError } from "./paths.ts";
import { MAX_INFLIGHT_PER_PROCESS } from "./limits.ts";
import { Gates } from "./gates.ts";
import { ioError, VfsFailure, VfsLimit } from "./failure.ts";
import { OpenFiles } from "./open_files.ts";
import { ZipUnpacker } from "./add_zip.ts";
import { Hashes } from "./hashes.ts";
import type { Vfs } from "./call.ts";
import { act } from "./actions.ts";

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
  "ReadAt",
  "CloseFile",
  "OpenFile",
]);

/** Actions that change what files hold at their path (CopyFile and Rename change their target too: drive_actions.ts). */
const CHANGES_CONTENT = new Set([
  "CreateFile",
  "Write",
  "WriteAll",
  "Append",
  "SetLen",
  "RemoveFile",
  "RemoveDir",
  "RemoveDirAll",
  "Rename",
  "AddZip",
]);

export class VfsModule implements RuntimeModule, Vfs {
  readonly process = VFS;
  readonly public = false;
  readonly root: string;
  /** `root` with its own symlinks (a /tmp elsewhere) resolved. */
  private realRoot: string | undefined;
  /** Open files per process, closed when the process exits. */
  readonly files = new OpenFiles();
  /** Each process's operations run a few at a time, so one process cannot hold every descriptor in flight. */
  private gates = new Gates(MAX_INFLIGHT_PER_PROCESS);
  /** AddZip runs there, off the kernel's thread. */
  readonly zip: ZipUnpacker;
  /** SHA-256 off the kernel's thread, and the running hashes of files written in order. */
  readonly hashes: Hashes;
  readonly scratch: string;

  constructor(private k: KernelHandle) {
    this.root = `${k.home}/vfs`;
    Deno.mkdirSync(this.root, { recursive: true });
    // Nothing writes yet: whatever is there is from a run that was killed mid-write.
    this.scratch = `${k.home}/kernel/vfs-tmp`;
    try {
      Deno.removeSync(this.scratch, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    Deno.mkdirSync(this.scratch, { recursive: true });
    this.zip = new ZipUnpacker(this.root);
    this.hashes = new Hashes();
  }

  driveCap(kind: "read" | "write", drive: string): Capability {
    return { issuer: formatAddress(this.k.our, VFS), params: JSON.stringify({ kind, drive }) };
  }

  grantDrive(source: ProcessId, drive: string) {
    this.k.grantCaps(source, [this.driveCap("read", drive), this.driveCap("write", drive)]);
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
    // A running SHA-256 follows WriteAt alone: anything else that changes the file drops it.
    if (CHANGES_CONTENT.has(name)) this.hashes.changed(host);
    try {
      return await act(this, { source, action: name, arg, p: path, host, blob });
    } catch (e) {
      if (e instanceof VfsFailure) throw e;
      throw new VfsFailure(ioError(e, path.path));
    }
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

  secondPath(source: ProcessId, action: string, raw: unknown): VfsPath {
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
  async noSymlinks(p: VfsPath) {
    // One realpath answers for every part of a path that exists (a transfer's calls lstat-ed each part: a tenth of
    // the node's CPU for 100 small downloads); the walk below runs for a path not there yet, or one that resolves
    // elsewhere, and names what it finds.
    const whole = [p.packageId, p.driveName, ...p.rest].join("/");
    this.realRoot ??= Deno.realPathSync(this.root);
    try {
      if (await Deno.realPath(`${this.root}/${whole}`) === `${this.realRoot}/${whole}`) return;
    } catch {
      // Not there (yet), or a loop of links: the walk tells.
    }
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

  async handleFor(source: ProcessId, p: VfsPath, host: string): Promise<Deno.FsFile> {
    const f = this.files.get(source, p.path);
    if (f) return f;
    await this.noSymlinks(p);
    return await this.files.open(source, p.path, host, { read: true, write: true });
  }

  processExited(process: ProcessId) {
    this.files.closeAll(process);
  }

  shutdown() {
    for (const id of this.files.holders()) this.processExited(id);
    this.zip.terminate();
  }
}
