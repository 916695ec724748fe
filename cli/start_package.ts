/** `start-package`: installs a built package on a running node and starts it (as `kit start-package`). */
import { readPkgDir } from "../runtime/packages/install.ts";
import { parseMetadata } from "../runtime/packages/manifest.ts";
import { encodeBase64 } from "../runtime/bytes.ts";
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { postToNode } from "./node_client.ts";

export const spec: CommandSpec = {
  name: "start-package",
  summary: "Start a built hyperdeno package on a running node",
  usage: "deno task start-package [OPTIONS] [DIR]",
  positionals: [{ name: "[DIR]", help: "The package directory to start", default: "." }],
  flags: [{ long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "localhost node port" }],
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  const dir = positionals[0].replace(/\/+$/, "");
  let meta;
  try {
    meta = parseMetadata(Deno.readTextFileSync(`${dir}/metadata.json`), `${dir}/metadata.json`);
  } catch (e) {
    throw new UsageError(
      e instanceof Deno.errors.NotFound ? `${dir} is not a package: no metadata.json` : (e as Error).message,
    );
  }
  let files: Record<string, Uint8Array>;
  try {
    files = readPkgDir(`${dir}/pkg`);
  } catch {
    throw new UsageError(`${dir} has no pkg/ folder: run \`deno task build ${dir}\` first`);
  }
  const packageId = `${meta.package_name}:${meta.publisher}`;
  const encoded = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, encodeBase64(v)]));
  const { status, json } = await postToNode(port, "/rpc:distro:sys/install", { package_id: packageId, files: encoded });
  if (status !== 200) {
    console.error(`start-package: ${json.error}`);
    return 1;
  }
  console.log(
    `started ${packageId} on port ${port}: ${(json.processes as string[]).join(", ")}` +
      ((json.scripts as string[]).length ? `; scripts ${(json.scripts as string[]).join(", ")}` : ""),
  );
  for (const line of (json.requested as string[] | undefined) ?? []) console.log(`  granted ${line}`);
  return 0;
}
