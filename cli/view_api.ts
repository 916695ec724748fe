/**
 * `view-api` (v): the APIs of the packages on a running node (each installed
 * package's pkg/api/), or one package's API printed, as `kit view-api`.
 */
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { fetchApi, vfs } from "./api_files.ts";
import { askNode } from "./node_client.ts";
import { KERNEL } from "../runtime/api/processes.ts";
import { storeApi, storeApis } from "./app_store_client.ts";

export const spec: CommandSpec = {
  name: "view-api",
  summary: "Fetch the list of APIs or a specific API",
  usage: "hyperdeno view-api [OPTIONS] [PACKAGE_ID]",
  positionals: [{ name: "[PACKAGE_ID]", help: "Get API of this package (default: list all APIs)" }],
  flags: [
    { long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "localhost node port" },
    {
      long: "download-from",
      short: "d",
      value: "NODE",
      refused: "APIs come from the node at --port (start the package there first)",
    },
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  const [packageId] = positionals;
  if (packageId) {
    if (!/^[a-z0-9-]+:[a-z0-9.-]+$/.test(packageId)) {
      throw new UsageError(`"${packageId}" is not a package id like my-chat-app:template.os`);
    }
    // As kit's: the App Store answers GetApi; a node without one is read through its VFS.
    const viaStore = await storeApi(port, packageId);
    const enc = new TextEncoder();
    const files = viaStore === null
      ? await fetchApi(packageId, port)
      : Object.fromEntries(Object.entries(viaStore).map(([k, v]) => [k, enc.encode(v)]));
    if (!files || Object.keys(files).length === 0) {
      console.error(
        `view-api: ${packageId} publishes no API on the node at port ${port} (its api/ folder, built into pkg/api/)`,
      );
      return 1;
    }
    const dec = new TextDecoder();
    for (const [name, bytes] of Object.entries(files).sort()) {
      console.log(`// ${packageId} api/${name}\n${dec.decode(bytes)}`);
    }
    return 0;
  }
  const withApi: string[] = [];
  const viaStore = await storeApis(port);
  for (const pkg of viaStore ?? await installedPackages(port)) {
    const listed = await vfs(port, { path: `/${pkg}/pkg/api`, action: "ReadDir" });
    const names = ((listed.ReadDir ?? []) as { path: string }[]).map((e) => e.path.slice(e.path.lastIndexOf("/") + 1));
    if (names.length) withApi.push(`${pkg}: ${names.join(", ")}`);
  }
  console.log(withApi.length ? withApi.join("\n") : `no package on the node at port ${port} publishes an API`);
  return 0;
}

/** The packages with processes on the node. */
async function installedPackages(port: number): Promise<string[]> {
  const map = ((await askNode(port, KERNEL, { Debug: "ProcessMap" })).body as { Debug: { ProcessMap: object } })
    .Debug.ProcessMap;
  const ids = Object.keys(map).map((id) => id.slice(id.indexOf(":") + 1));
  return [...new Set(ids)].filter((p) => p !== "distro:sys").sort();
}
