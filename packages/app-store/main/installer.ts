/**
 * Installs what downloads holds, through the runtime's installer (the kernel's root-only InstallPackage): the zip is
 * unpacked by the VFS (its zip worker: bombs refused off the kernel's thread) into a folder of our own, its manifest
 * read, and what it asks for is shown to the owner first. Nothing is granted before the owner approves exactly the
 * lines shown (the UI's consent dialog), or installs from the CLI (kit's start-package), which is the owner's act.
 */
import { KERNEL, Request, setState, vfs } from "@hyperdeno/process_lib";
import type { OnchainMetadata, PackageId } from "../api/types.ts";
import { idString, sha256Hex, zipName } from "../api/ids.ts";
import { newRequests, requestedLines } from "../api/consent.ts";

export interface Installed {
  package_id: PackageId;
  version_hash: string;
  metadata: OnchainMetadata | null;
  /** What the owner granted: the consent lines of the installed version. */
  granted: string[];
  auto_update: boolean;
  /** An update downloaded and waiting for the owner: it asks for `new_requests` beyond `granted`. */
  pending?: { version_hash: string; metadata: OnchainMetadata | null; new_requests: string[] } | null;
}

export interface Consent {
  package_id: string;
  version_hash: string;
  requested: string[];
  /** Installed already: what this version asks for beyond what was granted. */
  new_requests: string[] | null;
}

/** A version asked about that downloads does not hold (or holds with another hash). */
export class NotDownloaded extends Error {
  override name = "NotDownloaded";
}

export class Installer {
  readonly installed = new Map<string, Installed>();

  constructor(private node: string, private filesDrive: string, private unpackDrive: string) {}

  load(saved: Installed[]) {
    for (const i of saved) this.installed.set(idString(i.package_id), i);
  }

  save(): Promise<void> {
    return setState(new TextEncoder().encode(JSON.stringify([...this.installed.values()])));
  }

  /** Unpacks a downloaded version (once) and reads what it asks for. */
  async consent(p: PackageId, hash: string): Promise<Consent> {
    const manifest = await this.manifestOf(p, hash);
    const requested = requestedLines(manifest);
    const had = this.installed.get(idString(p));
    return {
      package_id: idString(p),
      version_hash: hash,
      requested,
      new_requests: had ? newRequests(had.granted, requested) : null,
    };
  }

  /** The manifest.json text of a downloaded version, unpacked into `unpacked/<hash>` from its verified zip. */
  async manifestOf(p: PackageId, hash: string): Promise<string> {
    const dir = `${this.unpackDrive}/${hash}`;
    const have = await vfs.metadata(`${dir}/manifest.json`).then(() => true, () => false);
    if (!have) {
      const zip = await new vfs.File(`${this.filesDrive}/${zipName(p, hash)}`).read().catch(() => null);
      if (!zip) {
        throw new NotDownloaded(`${idString(p)} version ${hash.slice(0, 12)}… is not downloaded: download it first`);
      }
      const actual = await sha256Hex(zip);
      if (actual !== hash) {
        throw new NotDownloaded(`the zip of ${idString(p)} does not match its hash: download it again`);
      }
      await vfs.removeDir(dir, true).catch(() => {});
      await vfs.openDir(dir, true);
      await vfs.addZip(dir, zip);
    }
    return await new vfs.File(`${dir}/manifest.json`).readToString();
  }

  /**
   * Installs a downloaded version. `approved`: the consent lines the owner saw and accepted; an install whose
   * manifest asks for anything else is refused (the owner saw another request), null for the CLI's own install.
   */
  async install(p: PackageId, hash: string, metadata: OnchainMetadata | null, approved: string[] | null) {
    const c = await this.consent(p, hash);
    if (approved !== null) {
      const missing = newRequests(approved, c.requested);
      if (missing.length) throw new Error(`the owner did not approve: ${missing.join("; ")}`);
    }
    const r = await Request.to(`${this.node}@${KERNEL}`)
      .json({ InstallPackage: { package_id: idString(p), path: `${this.unpackDrive}/${hash}` } })
      .sendAndAwaitResponse(120);
    const body = r.json<{ InstalledPackage?: unknown; Err?: string }>();
    if (!body.InstalledPackage) throw new Error(body.Err ?? "the kernel refused the install");
    const had = this.installed.get(idString(p));
    this.installed.set(idString(p), {
      package_id: p,
      version_hash: hash,
      metadata,
      granted: c.requested,
      auto_update: had?.auto_update ?? false,
      pending: null,
    });
    await this.save();
    return body.InstalledPackage;
  }

  async uninstall(p: PackageId) {
    const r = await Request.to(`${this.node}@${KERNEL}`).json({ UninstallPackage: idString(p) })
      .sendAndAwaitResponse(60);
    const body = r.json<{ UninstalledPackage?: unknown; Err?: string }>();
    if (!body.UninstalledPackage) throw new Error(body.Err ?? "the kernel refused the uninstall");
    this.installed.delete(idString(p));
    await this.save();
  }
}
