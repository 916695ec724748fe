/**
 * A package's web UI at build time: the static files of ui/ (or ui/dist/,
 * when a UI toolchain built one there) become pkg/ui/, which the package's
 * process serves once installed. Kept apart from the process bundling.
 */
export function hasUi(dir: string): boolean {
  try {
    return Deno.statSync(`${dir}/ui`).isDirectory;
  } catch {
    return false;
  }
}

const SKIP = new Set(["node_modules", "src", "package.json", "package-lock.json", "tsconfig.json"]);

/** Replaces pkg/ui/ with ui/'s static files; returns how many were copied. */
export function copyUi(dir: string): number {
  let from = `${dir}/ui`;
  try {
    if (Deno.statSync(`${from}/dist`).isDirectory) from = `${from}/dist`;
  } catch { /* plain static files */ }
  try {
    Deno.removeSync(`${dir}/pkg/ui`, { recursive: true });
  } catch { /* none yet */ }
  return copy(from, `${dir}/pkg/ui`, from === `${dir}/ui`);
}

function copy(from: string, to: string, filter: boolean): number {
  Deno.mkdirSync(to, { recursive: true });
  let n = 0;
  for (const e of Deno.readDirSync(from)) {
    if (filter && SKIP.has(e.name)) continue;
    if (e.name.startsWith(".")) continue;
    if (e.isDirectory) n += copy(`${from}/${e.name}`, `${to}/${e.name}`, false);
    else if (e.isFile) {
      Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
      n++;
    }
  }
  return n;
}
