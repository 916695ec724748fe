/** `start-package`: installs a built package on a running node and starts it (as `kit start-package`). */
import { readPkgDir } from "../runtime/packages/install.ts";
import { encodeBase64 } from "../runtime/bytes.ts";
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { postToNode } from "./node_client.ts";
import { readPackageDir } from "./package_dir.ts";
import { processDirs } from "../runtime/packages/build.ts";
import { zipPkg } from "./pkg_zip.ts";
import { startThroughStore } from "./app_store_client.ts";

export const spec: CommandSpec = {
  name: "start-package",
  summary: "Start a built hyperdeno package",
  usage: "hyperdeno start-package [OPTIONS] [DIR]",
  positionals: [{ name: "[DIR]", help: "The package directory to start", default: "." }],
  flags: [{ long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "localhost node port" }],
};

/** Installs `rawDir`'s pkg/ on the node at `port`; prints what it started and what was granted. */
export async function startPackage(
  rawDir: string,
  port: number,
  say: (line: string) => void = console.log,
): Promise<number> {
  const { dir, packageId } = readPackageDir(rawDir);
  const unbuilt = processDirs(dir).filter((p) => {
    try {
      return !Deno.statSync(`${dir}/pkg/${p.name}.js`).isFile;
    } catch {
      return true;
    }
  });
  if (unbuilt.length) {
    throw new UsageError(
      `${dir} is not built (no pkg/${
        unbuilt[0].name
      }.js): run \`hyperdeno build ${rawDir}\` first, or \`hyperdeno bs ${rawDir}\``,
    );
  }
  // As kit's: the zip to the node's App Store (which keeps and mirrors it), then Install; a node without one
  // installs through its own endpoint.
  const meta = JSON.parse(Deno.readTextFileSync(`${dir}/metadata.json`));
  const zipped = await zipPkg(dir, packageId);
  const viaStore = await startThroughStore(port, packageId, meta, Deno.readFileSync(zipped.path), zipped.sha256);
  if (viaStore !== null) {
    say(`started ${packageId} on port ${port} through its App Store (code hash ${zipped.sha256})`);
    for (const line of viaStore) say(`  granted ${line}`);
    return 0;
  }
  const files = readPkgDir(`${dir}/pkg`);
  const encoded = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, encodeBase64(v)]));
  const { status, json } = await postToNode(port, "/rpc:distro:sys/install", { package_id: packageId, files: encoded });
  if (status !== 200) {
    throw new UsageError(`the node on port ${port} refused ${packageId}: ${json.error}`);
  }
  say(
    `started ${packageId} on port ${port}: ${(json.processes as string[]).join(", ")}` +
      ((json.scripts as string[]).length ? `; scripts ${(json.scripts as string[]).join(", ")}` : ""),
  );
  for (const line of (json.requested as string[] | undefined) ?? []) say(`  granted ${line}`);
  return 0;
}

export function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  return startPackage(positionals[0], portFlag(flags.port));
}
