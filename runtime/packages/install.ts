/**
 * Installing a package: its pkg/ files become the package's `pkg` drive in
 * the VFS, and its manifest is applied: each process is initialized with the
 * capabilities it requests, granted ones are handed out, and all are started.
 * Everything is validated before anything is written or stopped.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { MESSAGING, ParseError, parsePackageId, type ProcessId } from "../types.ts";
import { capFor, type ManifestEntry, networkCap, parseManifest, parseScripts } from "./manifest.ts";

export interface InstallResult {
  package_id: string;
  processes: ProcessId[];
  scripts: string[];
}

function checkRelPath(p: string) {
  const segs = p.split("/");
  if (!p || p.startsWith("/") || segs.some((s) => s === "" || s === "." || s === ".." || s.includes("\0"))) {
    throw new ParseError(`bad file path in package: "${p}"`);
  }
}

export function installPackage(k: Kernel, packageId: string, files: Record<string, Uint8Array>): InstallResult {
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

  // Stop the old version before its files change under it.
  const ids = manifest.map((e) => `${e.process_name}:${packageId}`);
  for (const id of k.processes.ids()) {
    if (id.endsWith(`:${packageId}`)) k.killProcess(id);
  }

  writePkgDrive(`${k.home}/vfs/${packageId}`, files);

  const our = k.our;
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
  for (const id of ids) k.runProcess(id);
  return { package_id: packageId, processes: ids, scripts: Object.keys(scripts) };
}

/** Replaces the pkg drive in one rename, so a crash never leaves half a package. */
function writePkgDrive(pkgRoot: string, files: Record<string, Uint8Array>) {
  Deno.mkdirSync(`${pkgRoot}/tmp`, { recursive: true });
  const tag = crypto.randomUUID().slice(0, 8);
  const staging = `${pkgRoot}/.pkg-staging-${tag}`;
  for (const [rel, bytes] of Object.entries(files)) {
    const path = `${staging}/${rel}`;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeFileSync(path, bytes);
  }
  const old = `${pkgRoot}/.pkg-old-${tag}`;
  let hadOld = false;
  try {
    Deno.renameSync(`${pkgRoot}/pkg`, old);
    hadOld = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.renameSync(staging, `${pkgRoot}/pkg`);
  if (hadOld) Deno.removeSync(old, { recursive: true });
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
