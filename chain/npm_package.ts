/**
 * Where an npm package's files are: Deno keeps npm packages in its cache, and `deno info --json npm:<pkg>` fetches
 * the package when the cache is empty and names its folder, so a fresh clone with an empty DENO_DIR finds it too.
 * For packages whose files are not JavaScript: anvil's binary, OpenZeppelin's Solidity sources.
 */
const found = new Map<string, Promise<string>>();

/** The folder of `spec` (name@version) in Deno's npm cache. */
export function npmPackageDir(spec: string): Promise<string> {
  let p = found.get(spec);
  if (!p) {
    p = locate(spec).catch((e) => {
      found.delete(spec);
      throw e;
    });
    found.set(spec, p);
  }
  return p;
}

async function locate(spec: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `npm:${spec}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  let dir: string | undefined;
  try {
    const info = JSON.parse(text) as { npmPackages?: Record<string, { localPath?: string }> };
    dir = Object.entries(info.npmPackages ?? {}).find(([k]) => k.startsWith(spec))?.[1].localPath;
  } catch { /* below */ }
  if (!out.success || !dir) {
    throw new Error(
      `could not fetch ${spec} with deno info (${new TextDecoder().decode(out.stderr).trim().slice(0, 300)})`,
    );
  }
  return dir;
}
