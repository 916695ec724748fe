/**
 * A memory of type checks that passed, keyed by what the checker read rather than where it lay: the package's files
 * (paths relative to the package), the import map (the package's and the runtime's folders written as placeholders),
 * the files it maps to outside the package, the runtime's sources and the deno version. `deno check` keeps its own
 * cache by absolute path, so the same template made in a new folder (every `hyperdeno new`, every kit test) paid a
 * whole check again: ~2.5 CPU-s, most of a small package's build. Only passes are kept; a failure is always checked
 * again, so its message is the checker's own.
 */
import { createHash } from "node:crypto";

const SKIP = new Set(["pkg", "target", "node_modules", "dist"]);
const SOURCE = /\.(ts|tsx|js|jsx|mts|mjs|json)$/;

/** The folder checks are remembered in, or null when there is none to use. */
function cacheDir(): string | null {
  try {
    const base = Deno.env.get("XDG_CACHE_HOME") || (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : "");
    return base ? `${base}/hyperdeno/checked` : null;
  } catch {
    return null;
  }
}

function walk(dir: string, rel: string, out: [string, string][], skip: ReadonlySet<string>) {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (e.name.startsWith(".")) continue;
    const p = `${dir}/${e.name}`, r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory && !skip.has(e.name)) walk(p, r, out, skip);
    else if (e.isFile && SOURCE.test(e.name)) out.push([r, p]);
  }
}

/** The key of a check of `entries` (absolute paths in `dir`) through the import map at `importMap`. */
export function checkKey(dir: string, entries: string[], importMap: string, runtimeDir: string): string | null {
  const h = createHash("sha256");
  const text = (t: string) => h.update(`${t.length}:${t}\n`);
  // Each file as its name, its length and its bytes: no two different sets of files hash alike.
  const put = (name: string, bytes: Uint8Array) => {
    text(name);
    h.update(`${bytes.length}:`).update(bytes);
  };
  text(`deno ${Deno.version.deno} typescript ${Deno.version.typescript}`);
  const mapText = Deno.readTextFileSync(importMap);
  // Where the package and the runtime lie is no part of the key (their bytes are): every CI run and every new checkout
  // puts the runtime somewhere else, and each template's first check there paid ~3-6 CPU-s again.
  text(mapText.replaceAll(dir, "<package>").replaceAll(runtimeDir, "<runtime>"));
  for (const e of entries.map((e) => e.startsWith(`${dir}/`) ? e.slice(dir.length + 1) : e).sort()) text(e);
  const files: [string, string][] = [];
  walk(dir, "", files, SKIP);
  files.push(["target/features.ts", `${dir}/target/features.ts`]);
  for (const [rel, path] of files) put(rel, Deno.readFileSync(path));
  // What the map points at outside the package (dependencies' APIs): their bytes, not their paths.
  const outside = Object.values((JSON.parse(mapText) as { imports: Record<string, string> }).imports)
    .filter((v) => v.startsWith("file:") && !decodeURIComponent(new URL(v).pathname).startsWith(`${dir}/`))
    .map((v) => decodeURIComponent(new URL(v).pathname)).sort();
  for (const path of outside) {
    try {
      if (Deno.statSync(path).isFile) put(`outside:${path.split("/").pop()}`, Deno.readFileSync(path));
    } catch { /* the checker will say */ }
  }
  const runtime: [string, string][] = [];
  walk(runtimeDir, "", runtime, new Set());
  // Sources that cannot be read (a compiled binary's) cannot vouch for a check: it runs every time.
  if (runtime.length === 0) return null;
  for (const [rel, path] of runtime) put(`runtime/${rel}`, Deno.readFileSync(path));
  return h.digest("hex");
}

/** Whether a check with this key passed before. */
export function passedBefore(key: string): boolean {
  const dir = cacheDir();
  if (!dir) return false;
  try {
    return Deno.statSync(`${dir}/${key}`).isFile;
  } catch {
    return false;
  }
}

/** Remembers that a check with this key passed (best effort: a cache that cannot be written only costs time). */
export function rememberPass(key: string) {
  const dir = cacheDir();
  if (!dir) return;
  try {
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeTextFileSync(`${dir}/${key}`, "");
  } catch { /* next build checks again */ }
}
