/**
 * A package's API: the TypeScript in its api/ folder (types, and functions
 * that wrap its requests), published in its pkg/api/ so a node that runs it
 * serves it (`view-api`), and importable by other packages as
 * `@api/<package-id>` (metadata.json lists them under dependencies; `build`
 * fetches them from a local folder given with -l or from a running node).
 */
import { resolve } from "node:path";
import { askNode } from "./node_client.ts";
import { UsageError } from "./flags.ts";
import { decodeBase64 } from "../runtime/bytes.ts";
import { readPackageDir } from "./package_dir.ts";

/** The file `@api/<packageId>` names in an api folder: `<package-id>-vN.ts` (highest N), else the only .ts file. */
export function apiEntry(apiDir: string, packageId: string): string | null {
  let names: string[];
  try {
    names = [...Deno.readDirSync(apiDir)].filter((e) => e.isFile && /\.(d\.)?ts$/.test(e.name)).map((e) => e.name);
  } catch {
    return null;
  }
  const versioned = names
    .map((n) => ({ n, m: n.match(new RegExp(`^${packageId.replace(/\./g, "\\.")}-v(\\d+)\\.(d\\.)?ts$`)) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(b.m![1]) - Number(a.m![1]));
  if (versioned.length) return `${apiDir}/${versioned[0].n}`;
  return names.length === 1 ? `${apiDir}/${names[0]}` : null;
}

/** `p` from the working folder, with `.` and `..` resolved. */
export const absolutePath = (p: string): string => resolve(p);

function copyDir(from: string, to: string) {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) copyDir(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/**
 * Puts each dependency's API in target/deps/<package-id>/ (from a local
 * package folder among `local`, else from the node on `port`) and returns the
 * import-map entries for them and for the package's own API.
 */
export async function resolveApis(
  dir: string,
  packageId: string,
  dependencies: string[],
  opts: { local: string[]; port: number; skipDepsCheck: boolean },
): Promise<Record<string, string>> {
  const imports: Record<string, string> = {};
  const own = apiEntry(`${absolutePath(dir)}/api`, packageId);
  if (own) imports[`@api/${packageId}`] = own;
  const localById = new Map(opts.local.map((p) => [readPackageDir(p).packageId, absolutePath(p)]));
  for (const dep of dependencies) {
    const into = `${absolutePath(dir)}/target/deps/${dep}`;
    if (!opts.skipDepsCheck) {
      await Deno.remove(into, { recursive: true }).catch(() => {});
      const local = localById.get(dep);
      if (local) {
        try {
          copyDir(`${local}/api`, into);
        } catch {
          throw new UsageError(`${local} (dependency ${dep}) has no api/ folder`);
        }
      } else await downloadApi(dep, opts.port, into);
    }
    const entry = apiEntry(into, dep);
    if (!entry) {
      throw new UsageError(
        `no API of dependency ${dep} in ${into}: build with -l <its package folder>, or start it on the node at -p PORT`,
      );
    }
    imports[`@api/${dep}`] = entry;
  }
  return imports;
}

/** Reads a package's published API (pkg/api/) from the node on `port` into `into`. */
export async function downloadApi(packageId: string, port: number, into: string) {
  const files = await fetchApi(packageId, port);
  if (!files) {
    throw new UsageError(
      `dependency ${packageId} is not on the node at port ${port}: start it there (hyperdeno bs <its folder> -p ${port}), or build with -l <its package folder>`,
    );
  }
  Deno.mkdirSync(into, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) Deno.writeFileSync(`${into}/${name}`, bytes);
}

/** A package's API files on a running node, or null when it has none there. */
export async function fetchApi(packageId: string, port: number): Promise<Record<string, Uint8Array> | null> {
  const dirAt = `/${packageId}/pkg/api`;
  const listed = await vfs(port, { path: dirAt, action: "ReadDir" });
  if (!listed.ReadDir) return null;
  const out: Record<string, Uint8Array> = {};
  for (const e of listed.ReadDir as { path: string; file_type: string }[]) {
    if (e.file_type !== "File") continue;
    const name = e.path.slice(e.path.lastIndexOf("/") + 1);
    const read = await vfs(port, { path: `${dirAt}/${name}`, action: "Read" }, true);
    if (read.blob) out[name] = decodeBase64(read.blob as string);
  }
  return out;
}

/** One VFS request through the node's local message endpoint. */
export async function vfs(port: number, req: unknown, withBlob = false): Promise<Record<string, unknown>> {
  const { body, blob } = await askNode(port, "vfs:distro:sys", req);
  return withBlob ? { ...body, blob } : body;
}
