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

  const ids = manifest.map((e) => `${e.process_name}:${packageId}`);
  const our = k.our;
  // One change to the process map: a crash at any point leaves the old
  // version's entries or the new ones on disk, never a map without the package.
  k.processes.atomically(() => {
    // Stop the old version before its files change under it.
    for (const id of k.processes.ids()) {
      if (id.endsWith(`:${packageId}`)) k.killProcess(id);
    }
    writePkgDrive(`${k.home}/vfs/${packageId}`, files);
    writeScriptRecord(k.home, packageId, scripts);
    manifest.forEach((e, i) => {
      const caps = e.request_capabilities.map((c) => capFor(our, c));
      if (e.request_networking) caps.push(networkCap(our));
      k.initializeProcess(ids[i], {
        wasm_bytes_handle: `${packageId}/pkg/${codeOf(e)}`,
        wit_version: 1,
        on_exit: e.on_exit,
        capabilities: caps,
        public: e.public,
      });
    });
    manifest.forEach((e, i) => {
      const self = `${our}@${ids[i]}`;
      for (const g of e.grant_capabilities) {
        if (typeof g === "string") k.processes.grant(g, [{ issuer: self, params: MESSAGING }]);
        else k.processes.grant(g.process, [{ issuer: self, params: JSON.stringify(g.params) }]);
      }
    });
  });
  const requested = [
    ...manifest.map((e, i) => `process ${ids[i]}: ${describeRequest(e)}`),
    ...Object.entries(scripts).map(([file, s]) =>
      `script ${file.replace(/\.(js|wasm)$/, "")}:${packageId}: ${describeRequest(s)}`
    ),
  ];
  for (const line of requested) k.print(grantsAt, `install ${packageId}: granted ${line}`);
  for (const id of ids) k.runProcess(id);
  return { package_id: packageId, processes: ids, scripts: Object.keys(scripts), requested };
}

/** installPackage, answered once the process map holding the package is on disk. */
export async function installDurably(
  k: Kernel,
  packageId: string,
  files: Record<string, Uint8Array>,
): Promise<InstallResult> {
  const result = installPackage(k, packageId, files);
  await k.processes.flush();
  return result;
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

/** Replaces the pkg drive in one rename, so a crash never leaves half a package. */
function writePkgDrive(pkgRoot: string, files: Record<string, Uint8Array>) {
  Deno.mkdirSync(`${pkgRoot}/tmp`, { recursive: true });
  const tag = crypto.randomUUID().slice(0, 8);
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
  // The files, the folders naming them and the swap below are all on disk before the install answers.
  for (const d of [...dirs, staging]) syncDirSync(d);
  const old = `${pkgRoot}/.pkg-old-${tag}`;
  let hadOld = false;
  try {
    Deno.renameSync(`${pkgRoot}/pkg`, old);
    hadOld = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.renameSync(staging, `${pkgRoot}/pkg`);
  syncDirSync(pkgRoot);
  if (hadOld) Deno.removeSync(old, { recursive: true });
}

/**
 * Finishes pkg-drive swaps a crash interrupted (run at boot, before any
 * process starts): a package whose `pkg` is missing gets its previous
 * version back; half-written staging folders and leftovers are removed.
 */
export function recoverPkgDrives(home: string) {
  let pkgs: Deno.DirEntry[];
  try {
    pkgs = [...Deno.readDirSync(`${home}/vfs`)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  for (const p of pkgs) {
    if (!p.isDirectory) continue;
    const root = `${home}/vfs/${p.name}`;
    const names = [...Deno.readDirSync(root)].map((e) => e.name);
    const restored = names.includes("pkg") ? undefined : names.find((n) => n.startsWith(".pkg-old-"));
    if (restored) Deno.renameSync(`${root}/${restored}`, `${root}/pkg`);
    for (const n of names) {
      if (n !== restored && (n.startsWith(".pkg-staging-") || n.startsWith(".pkg-old-"))) {
        Deno.removeSync(`${root}/${n}`, { recursive: true });
      }
    }
  }
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
