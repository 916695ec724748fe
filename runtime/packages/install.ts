/**
 * Installing a package: its pkg/ files become the package's `pkg` drive in
 * the VFS, and its manifest is applied: each process is initialized with the
 * capabilities it requests, granted ones are handed out, and all are started.
 * Everything is validated before anything is written or stopped.
 *
 * What the scripts in pkg/scripts.json may do is fixed here, at install: the
 * parsed entries are recorded in the runtime's own drive (/distro:sys/scripts),
 * which no package writes, and the terminal runs scripts from that record. The
 * package's pkg drive is its own to write, so it is never read for permissions.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { dirOf, syncDirSync, writeFileAtomicSync, writeFileSyncedSync } from "../kernel/persist.ts";
import { MESSAGING, ParseError, parsePackageId, type ProcessId } from "../types.ts";
import {
  capFor,
  describeRequest,
  type ManifestEntry,
  networkCap,
  parseManifest,
  parseScripts,
  type ScriptEntry,
} from "./manifest.ts";

export interface InstallResult {
  package_id: string;
  processes: ProcessId[];
  scripts: string[];
  /** One line per process and script: what it asked for and was granted. */
  requested: string[];
}

/** The VFS drive holding each package's install-time script record, `<package-id>.json`. */
export const SCRIPT_RECORDS_DRIVE = "/distro:sys/scripts";

function checkRelPath(p: string) {
  const segs = p.split("/");
  if (!p || p.startsWith("/") || segs.some((s) => s === "" || s === "." || s === ".." || s.includes("\0"))) {
    throw new ParseError(`bad file path in package: "${p}"`);
  }
}

/**
 * Installs (or replaces) a package and starts its processes. What each process and script was granted is printed
 * at verbosity `grantsAt`: 0 for the packages a user installs, 1 for the distro's, which every boot of a new home
 * installs and which would otherwise bury the node's banner.
 */
export function installPackage(
  k: Kernel,
  packageId: string,
  files: Record<string, Uint8Array>,
  grantsAt = 0,
): InstallResult {
  return startInstall(k, packageId, files, grantsAt).result;
}

/** installPackage, answered once the process map holding the package is on disk. */
export async function installDurably(
  k: Kernel,
  packageId: string,
  files: Record<string, Uint8Array>,
): Promise<InstallResult> {
  const { result, durable } = startInstall(k, packageId, files);
  await durable;
  return result;
}

/** A package's files checked, and what installing it means for the process map. */
interface Plan {
  packageId: string;
  manifest: ManifestEntry[];
  scripts: Record<string, ScriptEntry>;
  ids: ProcessId[];
  codeOf: (entry: ManifestEntry) => string;
}

/** Validates a package before anything is written or stopped. */
function plan(k: Kernel, packageId: string, files: Record<string, Uint8Array>): Plan {
  parsePackageId(packageId);
  if (packageId === "distro:sys") throw new ParseError("distro:sys is reserved for runtime modules");
  for (const p of Object.keys(files)) checkRelPath(p);
  const manifestBytes = files["manifest.json"];
  if (!manifestBytes) throw new ParseError(`package ${packageId} has no pkg/manifest.json`);
  const dec = new TextDecoder();
  const manifest = parseManifest(dec.decode(manifestBytes), `${packageId} pkg/manifest.json`);
  const scripts = files["scripts.json"]
    ? parseScripts(dec.decode(files["scripts.json"]), `${packageId} pkg/scripts.json`)
    : {};
  const codeOf = (entry: ManifestEntry) =>
    k.code.normalize(`${packageId}${entry.process_wasm_path.startsWith("/") ? "" : "/"}${entry.process_wasm_path}`)
      .replace(`${packageId}/`, "");
  for (const e of manifest) {
    const rel = codeOf(e);
    if (!files[rel]) {
      throw new ParseError(
        `${packageId}: ${e.process_name} runs ${e.process_wasm_path}, but pkg/${rel} is missing: run deno task build first`,
      );
    }
  }
  for (const s of Object.keys(scripts)) {
    const rel = s.replace(/\.wasm$/, ".js");
    if (!files[rel]) {
      throw new ParseError(`${packageId}: script ${s} is listed but pkg/${rel} is missing: run deno task build first`);
    }
  }
  return { packageId, manifest, scripts, ids: manifest.map((e) => `${e.process_name}:${packageId}`), codeOf };
}

/**
 * The install as one crash-safe change. The new pkg drive is written in full
 * beside the old one, then an intent marker is written: from that moment a
 * crash is finished at the next boot (recoverPkgDrives, then finishInstalls
 * applies the manifest to the process map again), before it one is undone. The
 * drive swap and the process map's write follow; the marker goes once the map
 * is on disk. So after a crash the package is the old version whole or the new
 * one whole, never the new files under the old map.
 */
function startInstall(
  k: Kernel,
  packageId: string,
  files: Record<string, Uint8Array>,
  grantsAt = 0,
): { result: InstallResult; durable: Promise<void> } {
  const p = plan(k, packageId, files);
  const root = `${k.home}/vfs/${packageId}`;
  const tag = crypto.randomUUID().slice(0, 8);
  try {
    stagePkgDrive(root, tag, files);
  } catch (e) {
    Deno.removeSync(`${root}/.pkg-staging-${tag}`, { recursive: true });
    throw e;
  }
  markIntent(root, tag);
  // One change to the process map: a crash at any point leaves the old
  // version's entries or the new ones on disk, never a map without the package.
  k.processes.atomically(() => {
    // Stop the old version before its files change under it.
    for (const id of k.processes.ids()) {
      if (id.endsWith(`:${packageId}`)) k.killProcess(id);
    }
    swapPkgDrive(root, tag);
    applyManifest(k, p);
  });
  const requested = [
    ...p.manifest.map((e, i) => `process ${p.ids[i]}: ${describeRequest(e)}`),
    ...Object.entries(p.scripts).map(([file, s]) =>
      `script ${file.replace(/\.(js|wasm)$/, "")}:${packageId}: ${describeRequest(s)}`
    ),
  ];
  for (const line of requested) k.print(grantsAt, `install ${packageId}: granted ${line}`);
  for (const id of p.ids) k.runProcess(id);
  const durable = k.processes.flush().then(() => clearIntent(root, tag));
  durable.catch(() => {}); // installPackage's callers need not wait; a failed write shows at the next save
  return {
    result: { package_id: packageId, processes: p.ids, scripts: Object.keys(p.scripts), requested },
    durable,
  };
}

/** The process map's part of an install: script grants recorded, processes initialized, grants handed out. */
function applyManifest(k: Kernel, p: Plan) {
  const our = k.our;
  writeScriptRecord(k.home, p.packageId, p.scripts);
  p.manifest.forEach((e, i) => {
    const caps = e.request_capabilities.map((c) => capFor(our, c));
    if (e.request_networking) caps.push(networkCap(our));
    k.initializeProcess(p.ids[i], {
      wasm_bytes_handle: `${p.packageId}/pkg/${p.codeOf(e)}`,
      wit_version: 1,
      on_exit: e.on_exit,
      capabilities: caps,
      public: e.public,
    });
  });
  p.manifest.forEach((e, i) => {
    const self = `${our}@${p.ids[i]}`;
    for (const g of e.grant_capabilities) {
      if (typeof g === "string") k.processes.grant(g, [{ issuer: self, params: MESSAGING }]);
      else k.processes.grant(g.process, [{ issuer: self, params: JSON.stringify(g.params) }]);
    }
  });
}

/**
 * Finishes, at boot, the installs a crash interrupted after their intent was
 * marked (recoverPkgDrives has put their new pkg drives in place): the
 * manifest is applied to the process map again, which is on disk before the
 * marker goes. Run after the map is loaded and before any process starts.
 */
export async function finishInstalls(k: Kernel, pending: PendingInstall[]) {
  for (const { packageId, root, tag } of pending) {
    try {
      const p = plan(k, packageId, readPkgDir(`${root}/pkg`));
      k.processes.atomically(() => {
        for (const id of k.processes.ids()) {
          if (id.endsWith(`:${packageId}`)) k.killProcess(id);
        }
        applyManifest(k, p);
      });
      k.print(0, `install ${packageId}: finished the install a crash interrupted`);
    } catch (e) {
      k.print(0, `install ${packageId}: could not finish the install a crash interrupted (${e}); install it again`);
    }
    await k.processes.flush();
    clearIntent(root, tag);
  }
}

/** Host path of a package's install-time script record. */
function scriptRecordPath(home: string, packageId: string): string {
  return `${home}/vfs${SCRIPT_RECORDS_DRIVE}/${packageId}.json`;
}

/** Records what the package's scripts were granted, or removes the record when it has none. */
function writeScriptRecord(home: string, packageId: string, scripts: Record<string, ScriptEntry>) {
  const path = scriptRecordPath(home, packageId);
  if (Object.keys(scripts).length === 0) {
    try {
      Deno.removeSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return;
  }
  Deno.mkdirSync(dirOf(path), { recursive: true });
  writeFileAtomicSync(path, new TextEncoder().encode(JSON.stringify(scripts, null, 1)));
}

const INTENT = ".pkg-installing-";

/** Writes the new pkg drive in full beside the old one (`.pkg-staging-<tag>`), all of it on disk. */
function stagePkgDrive(pkgRoot: string, tag: string, files: Record<string, Uint8Array>) {
  Deno.mkdirSync(`${pkgRoot}/tmp`, { recursive: true });
  const staging = `${pkgRoot}/.pkg-staging-${tag}`;
  const dirs = new Set<string>();
  for (const [rel, bytes] of Object.entries(files)) {
    const path = `${staging}/${rel}`;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    writeFileSyncedSync(path, bytes);
    for (let i = rel.lastIndexOf("/"); i > 0; i = rel.lastIndexOf("/", i - 1)) {
      dirs.add(`${staging}/${rel.slice(0, i)}`);
    }
  }
  Deno.mkdirSync(staging, { recursive: true });
  // The files and the folders naming them are on disk before the intent is.
  for (const d of [...dirs, staging]) syncDirSync(d);
}

/** The install's point of no return: from here a crash is finished at boot, not undone. */
function markIntent(pkgRoot: string, tag: string) {
  writeFileSyncedSync(`${pkgRoot}/${INTENT}${tag}`, new Uint8Array());
  syncDirSync(pkgRoot);
}

function clearIntent(pkgRoot: string, tag: string) {
  try {
    Deno.removeSync(`${pkgRoot}/${INTENT}${tag}`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Puts the staged drive in `pkg`'s place in one rename, and removes the old one. */
function swapPkgDrive(pkgRoot: string, tag: string) {
  const old = `${pkgRoot}/.pkg-old-${tag}`;
  let hadOld = false;
  try {
    Deno.renameSync(`${pkgRoot}/pkg`, old);
    hadOld = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.renameSync(`${pkgRoot}/.pkg-staging-${tag}`, `${pkgRoot}/pkg`);
  syncDirSync(pkgRoot);
  if (hadOld) Deno.removeSync(old, { recursive: true });
}

/** An install a crash interrupted after its point of no return, for finishInstalls. */
export interface PendingInstall {
  packageId: string;
  root: string;
  tag: string;
}

/**
 * Puts pkg drives right after a crash (run at boot, before the process map
 * is loaded): an install past its intent marker gets its staged drive swapped
 * in and is returned, to be finished; staging folders of installs that had
 * not got so far, and old drives, are removed (a `pkg` missing without an
 * intent gets its previous version back).
 */
export function recoverPkgDrives(home: string): PendingInstall[] {
  let pkgs: Deno.DirEntry[];
  try {
    pkgs = [...Deno.readDirSync(`${home}/vfs`)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const pending: PendingInstall[] = [];
  for (const p of pkgs) {
    if (!p.isDirectory) continue;
    const root = `${home}/vfs/${p.name}`;
    let names = [...Deno.readDirSync(root)].map((e) => e.name);
    const tag = names.find((n) => n.startsWith(INTENT))?.slice(INTENT.length);
    if (tag !== undefined) {
      if (names.includes(`.pkg-staging-${tag}`)) swapPkgDrive(root, tag);
      pending.push({ packageId: p.name, root, tag });
      names = [...Deno.readDirSync(root)].map((e) => e.name);
    }
    const restored = names.includes("pkg") ? undefined : names.find((n) => n.startsWith(".pkg-old-"));
    if (restored) Deno.renameSync(`${root}/${restored}`, `${root}/pkg`);
    for (const n of names) {
      if (n !== restored && (n.startsWith(".pkg-staging-") || n.startsWith(".pkg-old-"))) {
        Deno.removeSync(`${root}/${n}`, { recursive: true });
      }
      if (n.startsWith(INTENT) && n.slice(INTENT.length) !== tag) Deno.removeSync(`${root}/${n}`);
    }
  }
  return pending;
}

/** Reads a package directory's pkg/ as the file map installPackage takes. */
export function readPkgDir(pkgDir: string): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const walk = (dir: string, rel: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      // A build running beside us writes temp files that are renamed into place.
      if (/\.tmp-[0-9a-f]{8}$/.test(e.name)) continue;
      if (e.isDirectory) walk(`${dir}/${e.name}`, r);
      else if (e.isFile) {
        try {
          files[r] = Deno.readFileSync(`${dir}/${e.name}`);
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
      }
    }
  };
  walk(pkgDir, "");
  return files;
}
