/**
 * `build`: type-checks and bundles each process of a package into pkg/, puts
 * its API (api/) and UI (ui/) there too, and zips pkg/ with its hash, as
 * `kit build` does. kit's flags that mean something for TypeScript work;
 * the Rust/WIT-only ones are refused with the reason.
 */
import { buildPackage, copyUi } from "../runtime/packages/build.ts";
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { readPackageDir } from "./package_dir.ts";
import { absolutePath, resolveApis } from "./api_files.ts";
import { zipPkg } from "./pkg_zip.ts";
import { isDir, isFile as exists } from "../runtime/fs.ts";
import { buildNpmUi, hasNpmUi } from "./vite_ui.ts";

export const BUILD_FLAGS: CommandSpec["flags"] = [
  { long: "no-ui", bool: true, help: "If set, do NOT build the web UI for the process; no-op if passed with UI_ONLY" },
  { long: "ui-only", bool: true, help: "If set, build ONLY the web UI for the process; no-op if passed with NO_UI" },
  {
    long: "include",
    short: "i",
    value: "INCLUDE",
    multiple: true,
    help: "Build only these processes (can specify multiple times) [default: build all]",
  },
  {
    long: "exclude",
    short: "e",
    value: "EXCLUDE",
    multiple: true,
    help: "Build all but these processes (can specify multiple times) [default: build all]",
  },
  {
    long: "skip-deps-check",
    short: "s",
    bool: true,
    help: "If set, do not fetch dependencies' APIs (use those fetched last time, in target/deps/)",
  },
  {
    long: "features",
    value: "FEATURES",
    help: 'Comma-delimited features, readable in code as `import { FEATURES } from "@hyperdeno/features"`',
  },
  {
    long: "port",
    short: "p",
    default: "8080",
    value: "NODE_PORT",
    help: "localhost node port to fetch dependencies' APIs from",
  },
  {
    long: "local-dependency",
    short: "l",
    value: "DEPENDENCY_PACKAGE_PATH",
    multiple: true,
    help: "Path to local dependency package (can specify multiple times)",
  },
  {
    long: "add-to-api",
    short: "a",
    value: "PATH",
    multiple: true,
    help: "Path to file to add to the published API, pkg/api/ (can specify multiple times)",
  },
  { long: "force", short: "f", bool: true, help: "Force a rebuild" },
  { long: "verbose", short: "v", bool: true, help: "If set, print each step" },
  {
    long: "reproducible",
    short: "r",
    bool: true,
    help: "Accepted for kit's sake: every build is reproducible (the zip's hash depends only on pkg/'s bytes)",
  },
  {
    long: "download-from",
    short: "d",
    value: "NODE",
    refused: "dependencies come from the node at --port or a folder given with --local-dependency",
  },
  {
    long: "world",
    short: "w",
    value: "WORLD",
    refused: "there are no WIT worlds: processes import their APIs as TypeScript",
  },
  {
    long: "rewrite",
    bool: true,
    refused: "processes spawn children with spawn() from process_lib; nothing to rewrite",
  },
];

export const spec: CommandSpec = {
  name: "build",
  summary: "Build a hyperdeno package (type-check, bundle, API, UI, zip)",
  usage: "hyperdeno build [OPTIONS] [DIR]",
  positionals: [{ name: "[DIR]", help: "The package directory to build", default: "." }],
  flags: BUILD_FLAGS,
};

export type Flags = ReturnType<typeof parseFlags>["flags"];

/** Builds the package in `rawDir` with build's flags; prints what it did; returns the package id. */
export async function buildWithFlags(rawDir: string, flags: Flags): Promise<string> {
  const t = performance.now();
  const pkg = readPackageDir(rawDir);
  const dir = absolutePath(pkg.dir);
  const say = flags.verbose ? (s: string) => console.log(s) : () => {};
  const lines: string[] = [];
  // As kit's: each of --no-ui and --ui-only is a no-op when passed with the other.
  const uiOnly = Boolean(flags["ui-only"] && !flags["no-ui"]);
  const noUi = Boolean(flags["no-ui"] && !flags["ui-only"]);
  // A UI with ui/package.json (`new --ui`) is built with npm into ui/dist/ first; copyUi then takes dist/.
  const npmUi = !noUi && hasNpmUi(dir);
  if (npmUi) await buildNpmUi(dir, (line) => console.log(line));
  if (!uiOnly) {
    say(
      `build: resolving APIs of ${pkg.packageId}${
        pkg.dependencies.length ? ` and ${pkg.dependencies.join(", ")}` : ""
      }`,
    );
    const imports = await resolveApis(dir, pkg.packageId, pkg.dependencies, {
      local: flags["local-dependency"] as string[],
      port: portFlag(flags.port),
      skipDepsCheck: Boolean(flags["skip-deps-check"]),
    });
    say(`build: type-checking and bundling`);
    const r = await buildPackage(dir, {
      check: true,
      onlyIfStale: !flags.force,
      include: flags.include as string[],
      exclude: flags.exclude as string[],
      imports,
      features: flags.features ? String(flags.features).split(",").map((f) => f.trim()).filter(Boolean) : [],
      ui: !noUi,
    });
    lines.push(
      r.built.length ? `bundled ${r.built.map((b) => `pkg/${b}.js`).join(", ")}` : "",
      r.skipped.length ? `up to date ${r.skipped.map((b) => `pkg/${b}.js`).join(", ")} (-f rebuilds)` : "",
    );
    const api = publishApi(dir, flags["add-to-api"] as string[]);
    if (api) lines.push(`API pkg/api/ (${api} files)`);
  }
  if (uiOnly) copyUi(dir);
  if (!noUi && isDir(`${dir}/ui`)) lines.push(npmUi ? "UI pkg/ui/ (from ui/dist/)" : "UI pkg/ui/");
  const zip = await zipPkg(dir, pkg.packageId);
  console.log(
    `built ${pkg.packageId} in ${Math.round(performance.now() - t)} ms: ${lines.filter(Boolean).join("; ")}\n` +
      `  ${zip.path} (${zip.bytes} bytes) sha256 ${zip.sha256}`,
  );
  return pkg.packageId;
}

/** Copies api/ and the --add-to-api files into pkg/api/, the API a node that runs the package serves. */
function publishApi(dir: string, extra: string[]): number {
  const to = `${dir}/pkg/api`;
  try {
    Deno.removeSync(to, { recursive: true });
  } catch { /* none yet */ }
  const files: [string, string][] = [];
  try {
    for (const e of Deno.readDirSync(`${dir}/api`)) if (e.isFile) files.push([`${dir}/api/${e.name}`, e.name]);
  } catch { /* no api/ */ }
  for (const p of extra) {
    if (!exists(p)) throw new UsageError(`--add-to-api ${p}: no such file${wasmHint(p)}`);
    files.push([p, p.slice(p.lastIndexOf("/") + 1)]);
  }
  if (!files.length) return 0;
  Deno.mkdirSync(to, { recursive: true });
  for (const [from, name] of files) Deno.copyFileSync(from, `${to}/${name}`);
  return files.length;
}

/** The book's `-a <pkg>/pkg/<worker>.wasm`: processes here are JavaScript, so the built worker is `<worker>.js`. */
function wasmHint(path: string): string {
  if (!path.endsWith(".wasm")) return "";
  const js = path.replace(/\.wasm$/, ".js");
  return `; processes here are JavaScript, not Wasm: use -a ${js}${
    exists(js) ? "" : " (written when that process is built)"
  }`;
}

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  await buildWithFlags(positionals[0], flags);
  return 0;
}
