/**
 * `build`: bundles each process of a package (a folder holding main.ts) into
 * one self-contained file, pkg/<process>.js, with `deno bundle`. The bundle
 * carries its own copy of process_lib, so a node runs it with no imports.
 * The format is CommonJS: a warm worker instantiates it with `new Function`
 * 5-8× faster than it imports an ES module from a blob URL.
 *
 * Imports resolve through an import map written for the package
 * (target/import_map.json): the checkout's npm imports, a package's own
 * deno.json "imports", "@hyperdeno/process_lib" pointing at this checkout's
 * process_lib, and "@api/<package-id>" at APIs the package depends on. So a package anywhere on disk
 * builds without a copy of the repo's config.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Buffer } from "node:buffer";
import { ParseError } from "../types.ts";
import { parseMetadata } from "./manifest.ts";
import { BuildFailed } from "../errors.ts";
import { isDir, isFile } from "../fs.ts";
import { checkKey, passedBefore, rememberPass } from "./check_cache.ts";
import { writeFileAtomicSync } from "../kernel/persist.ts";
import repoConfig from "../../deno.json" with { type: "json" };

const PROCESS_LIB = new URL("../process_lib/mod.ts", import.meta.url);
const RUNTIME = new URL("../", import.meta.url);
const REPO_IMPORTS: Record<string, string> = repoConfig.imports;
const SKIP = new Set(["pkg", "api", "ui", "test", "target", "node_modules"]);
const ENTRIES = ["main.ts", "main.js", "src/main.ts", "src/lib.ts"];

export interface BuildResult {
  packageId: string;
  built: string[];
  skipped: string[];
}

export interface BuildOptions {
  /** Leave a bundle newer than every source file (and process_lib) alone. */
  onlyIfStale?: boolean;
  /** Type-check every process first; a type error fails the build with the checker's message. */
  check?: boolean;
  /** Build only these processes. */
  include?: string[];
  /** Build all but these processes. */
  exclude?: string[];
  /** Extra import-map entries (specifier → absolute file URL or path), e.g. dependencies' APIs. */
  imports?: Record<string, string>;
  /** Written as `export const FEATURES = [...]` for `import { FEATURES } from "@hyperdeno/features"`. */
  features?: string[];
  /** Copy ui/ to pkg/ui/ (default true; build --no-ui says false). */
  ui?: boolean;
}

function entryOf(dir: string): string | null {
  for (const e of ENTRIES) {
    try {
      if (Deno.statSync(`${dir}/${e}`).isFile) return `${dir}/${e}`;
    } catch { /* next */ }
  }
  return null;
}

/** The newest modification time of any source file below `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory && !SKIP.has(e.name) && !e.name.startsWith(".")) newest = Math.max(newest, newestSource(p));
    else if (e.isFile && /\.(ts|js|tsx|jsx|json)$/.test(e.name)) {
      newest = Math.max(newest, Deno.statSync(p).mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

function mtime(path: string): number {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return -1;
  }
}

export function processDirs(pkgDir: string): { name: string; entry: string }[] {
  const out: { name: string; entry: string }[] = [];
  for (const e of Deno.readDirSync(pkgDir)) {
    if (!e.isDirectory || SKIP.has(e.name) || e.name.startsWith(".")) continue;
    const entry = entryOf(`${pkgDir}/${e.name}`);
    if (entry) out.push({ name: e.name, entry });
  }
  return out.sort((a, b) => a.name < b.name ? -1 : 1);
}

/**
 * Builds every process of the package at `pkgDir`. With `onlyIfStale`, a
 * bundle newer than every source file (and process_lib) is left alone.
 */
export async function buildPackage(pkgDir: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const dir = pkgDir.replace(/\/+$/, "") || "/";
  let metaText: string;
  try {
    metaText = Deno.readTextFileSync(`${dir}/metadata.json`);
  } catch {
    throw new ParseError(`${dir} is not a package: it has no metadata.json (create one with \`hyperdeno new\`)`);
  }
  const meta = parseMetadata(metaText, `${dir}/metadata.json`);
  try {
    Deno.statSync(`${dir}/pkg/manifest.json`);
  } catch {
    throw new ParseError(`${dir} has no pkg/manifest.json`);
  }
  const procs = selectProcesses(dir, opts);
  const libNewest = newestSource(new URL("../process_lib", import.meta.url).pathname);
  const result: BuildResult = { packageId: `${meta.package_name}:${meta.publisher}`, built: [], skipped: [] };
  const stale = procs.filter(({ name }) => {
    const fresh = opts.onlyIfStale &&
      mtime(`${dir}/pkg/${name}.js`) > Math.max(newestSource(`${dir}/${name}`), libNewest);
    if (fresh) result.skipped.push(name);
    return !fresh;
  });
  if (stale.length === 0) {
    if (opts.ui !== false) copyUi(dir);
    return result;
  }
  const importMap = writeImportMap(dir, opts);
  if (opts.check) {
    const entries = stale.map((p) => p.entry);
    const key = checkKey(resolve(dir), entries.map((e) => resolve(e)), importMap, RUNTIME.pathname.replace(/\/$/, ""));
    if (key === null || !passedBefore(key)) {
      await typeCheck(entries, importMap);
      if (key !== null) rememberPass(key);
    }
  }
  // The first `deno bundle` on an empty Deno cache installs esbuild; several at once
  // collide while copying its binary. So one runs alone, then the rest two at a time.
  const run = async ({ name, entry }: { name: string; entry: string }) => {
    await bundle(entry, `${dir}/pkg/${name}.js`, importMap);
    result.built.push(name);
  };
  await run(stale[0]);
  const rest = stale.slice(1);
  const lanes = Array.from({ length: Math.min(2, rest.length) }, async () => {
    for (let p = rest.shift(); p; p = rest.shift()) await run(p);
  });
  // Every lane finishes before a failure is reported, so none leaves a temp file behind.
  const failed = (await Promise.allSettled(lanes)).find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  result.built.sort();
  if (opts.ui !== false) copyUi(dir);
  return result;
}

/** The process folders to build, after --include and --exclude. */
function selectProcesses(dir: string, opts: BuildOptions): { name: string; entry: string }[] {
  const all = processDirs(dir);
  if (all.length === 0) throw new ParseError(`${dir} has no process folders (a folder with main.ts)`);
  const names = new Set(all.map((p) => p.name));
  for (const n of [...opts.include ?? [], ...opts.exclude ?? []]) {
    if (!names.has(n)) throw new ParseError(`${dir} has no process ${n}; its processes: ${[...names].join(", ")}`);
  }
  return all.filter((p) => (!opts.include?.length || opts.include.includes(p.name)) && !opts.exclude?.includes(p.name));
}

/**
 * A package's web UI is static files, copied to `pkg/ui/` (replacing what
 * was there), where process_lib's serveUi finds it in the pkg drive: `ui/`
 * as it is, or, for a UI with a `ui/package.json` (the Vite template), its
 * build output `ui/dist/`, which `hyperdeno build` makes with npm first.
 *
 * Others may be reading `pkg/` meanwhile (a node installing it, another
 * build): a UI that did not change is left as it is, and a new one is made
 * beside it and renamed into place, so no reader finds `pkg/ui/` half gone
 * (a test file's install failed with "readdir pkg/ui: NotFound" while another
 * file's build, the package already fresh, removed and copied the UI again).
 */
export function copyUi(dir: string) {
  const from = isFile(`${dir}/ui/package.json`) ? `${dir}/ui/dist` : `${dir}/ui`;
  try {
    if (!Deno.statSync(from).isDirectory) return;
  } catch {
    return;
  }
  const to = `${dir}/pkg/ui`;
  const wanted = uiFiles(from);
  if (sameFiles(wanted, to)) return;
  // Made in target/ (the same filesystem), never in pkg/, where a reader would take it for part of the package.
  const tag = crypto.randomUUID().slice(0, 8);
  const fresh = `${dir}/target/.ui-${tag}`, old = `${dir}/target/.ui-old-${tag}`;
  Deno.mkdirSync(fresh, { recursive: true });
  for (const [rel, bytes] of wanted) {
    Deno.mkdirSync(`${fresh}/${rel}`.replace(/\/[^/]*$/, ""), { recursive: true });
    Deno.writeFileSync(`${fresh}/${rel}`, bytes);
  }
  Deno.mkdirSync(`${dir}/pkg`, { recursive: true });
  try {
    Deno.renameSync(to, old);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  try {
    Deno.renameSync(fresh, to);
  } catch (e) {
    // Another build put its copy there between our two renames: it copied the same ui/.
    Deno.removeSync(fresh, { recursive: true });
    if (!isDir(to)) throw e;
  }
  try {
    Deno.removeSync(old, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * The UI's files by path under `from`: files and folders only (a symlink in ui/ could carry any file of the
 * builder's machine into the package), no dot-files, no node_modules.
 */
function uiFiles(from: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (src: string, rel: string) => {
    for (const e of Deno.readDirSync(src)) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(`${src}/${e.name}`, r);
      else if (e.isFile) files.set(r, Deno.readFileSync(`${src}/${e.name}`));
    }
  };
  walk(from, "");
  return files;
}

/** Whether the folder `dir` holds exactly `files` (and no other file). */
function sameFiles(files: Map<string, Uint8Array>, dir: string): boolean {
  let there: Map<string, Uint8Array>;
  try {
    there = uiFiles(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  if (there.size !== files.size) return false;
  for (const [rel, bytes] of files) {
    const other = there.get(rel);
    if (!other || !Buffer.from(other.buffer, other.byteOffset, other.length).equals(bytes)) return false;
  }
  return true;
}

/**
 * Writes target/import_map.json: process_lib from this checkout, the extra
 * entries, the package's own deno.json imports, and the features module.
 */
export function writeImportMap(dir: string, opts: Pick<BuildOptions, "imports" | "features"> = {}): string {
  const target = `${resolve(dir)}/target`;
  Deno.mkdirSync(target, { recursive: true });
  // The checkout's own imports (npm packages the runtime uses) come first: a package may use them too.
  const imports: Record<string, string> = {};
  for (const [k, v] of Object.entries(REPO_IMPORTS)) if (/^[a-z]+:/.test(v)) imports[k] = v;
  try {
    const own = JSON.parse(Deno.readTextFileSync(`${dir}/deno.json`)) as { imports?: Record<string, string> };
    const base = pathToFileURL(`${resolve(dir)}/`);
    for (const [k, v] of Object.entries(own.imports ?? {})) {
      imports[k] = /^[a-z]+:/.test(v) ? v : new URL(v, base).href;
    }
  } catch { /* no deno.json of its own */ }
  imports["@hyperdeno/process_lib"] = processLibHref();
  const features = `${target}/features.ts`;
  writeIfChanged(
    features,
    `/** Written by build: the features it was given (--features). */\nexport const FEATURES: readonly string[] = ${
      JSON.stringify(opts.features ?? [])
    };\n`,
  );
  imports["@hyperdeno/features"] = pathToFileURL(features).href;
  for (const [k, v] of Object.entries(opts.imports ?? {})) {
    imports[k] = v.startsWith("file:") ? v : pathToFileURL(v).href;
  }
  const path = `${target}/import_map.json`;
  writeIfChanged(path, JSON.stringify({ imports }, null, 2) + "\n");
  return path;
}

/**
 * Another build of the same package may be reading these files (nodes booting side by side build the terminal), and a
 * node killed mid-write must not leave one empty: a file is replaced whole (renamed into place), and only if it
 * changed (a CI run once read an empty import map: "EOF while parsing").
 */
function writeIfChanged(path: string, text: string) {
  try {
    if (Deno.readTextFileSync(path) === text) return;
  } catch { /* not there yet */ }
  writeFileAtomicSync(path, new TextEncoder().encode(text));
}

/** Whether this process is deno itself (a compiled hyperdeno is not). */
const RUNNING_DENO = /(^|\/)deno(\.exe)?$/.test(Deno.execPath());

/** The deno CLI: this process when it is deno, else the one on PATH. */
function denoCli(): string {
  return RUNNING_DENO ? Deno.execPath() : "deno";
}

let extracted: string | null = null;

/**
 * process_lib as the `deno` that builds sees it: this checkout's, or, in a
 * compiled hyperdeno (whose sources live inside the binary, out of another
 * program's reach), a copy of the runtime's sources written out once per run.
 */
function processLibHref(): string {
  if (RUNNING_DENO) return PROCESS_LIB.href;
  extracted ??=
    pathToFileURL(`${extractRuntime(Deno.makeTempDirSync({ prefix: "hyperdeno-runtime-" }))}/process_lib/mod.ts`)
      .href;
  return extracted;
}

/** Copies the runtime's TypeScript sources (process_lib and what it imports) into `to`/runtime; returns that folder. */
export function extractRuntime(to: string): string {
  const copy = (from: string, into: string) => {
    Deno.mkdirSync(into, { recursive: true });
    for (const e of Deno.readDirSync(from)) {
      if (e.isDirectory) copy(`${from}/${e.name}`, `${into}/${e.name}`);
      else if (e.isFile && e.name.endsWith(".ts")) Deno.copyFileSync(`${from}/${e.name}`, `${into}/${e.name}`);
    }
  };
  copy(RUNTIME.pathname.replace(/\/$/, ""), `${to}/runtime`);
  return `${to}/runtime`;
}

async function denoRun(args: string[], what: string): Promise<Deno.CommandOutput> {
  try {
    return await new Deno.Command(denoCli(), { args, stdout: "piped", stderr: "piped", env: { NO_COLOR: "1" } })
      .output();
  } catch (e) {
    throw new BuildFailed(`${what} needs the deno CLI on PATH (${(e as Error).message})`);
  }
}

/** One `deno check` over every entry: a type error fails the build with the checker's own message. */
async function typeCheck(entries: string[], importMap: string) {
  const r = await denoRun(
    ["check", "--quiet", "--no-config", "--no-lock", "--import-map", importMap, ...entries],
    "type-checking",
  );
  if (!r.success) {
    const err = new TextDecoder().decode(r.stderr).trim().replace(/\n+\s*(info|hint):[^\n]*/g, "")
      .replace(/\n*Stack backtrace:[\s\S]*$/, "");
    throw new BuildFailed(`type check failed:\n${err}`);
  }
}

async function bundle(entry: string, out: string, importMap: string) {
  const tmp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const r = await denoRun([
    "bundle",
    "--quiet",
    "--no-config",
    "--no-lock",
    "--import-map",
    importMap,
    "--platform",
    "deno",
    "--format",
    "cjs",
    "--sourcemap",
    "external",
    "-o",
    tmp,
    entry,
  ], `building ${entry}`);
  if (!r.success) {
    await Deno.remove(tmp).catch(() => {});
    await Deno.remove(`${tmp}.map`).catch(() => {});
    const err = new TextDecoder().decode(r.stderr).trim();
    throw new BuildFailed(`building ${entry} failed:\n${err}`);
  }
  await Deno.rename(`${tmp}.map`, `${out}.map`).catch(() => {});
  await Deno.rename(tmp, out);
}
