/**
 * `remove-package` (r): stops every process of a package on a running node
 * and removes its files, as `kit remove-package`. The package is named by a
 * package folder's metadata.json, or by --package and --publisher.
 */
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { askNode } from "./node_client.ts";
import { KERNEL } from "../runtime/api/processes.ts";
import { readPackageDir } from "./package_dir.ts";
import { vfs } from "./api_files.ts";

export const spec: CommandSpec = {
  name: "remove-package",
  summary: "Remove a running package from a node",
  usage: "hyperdeno remove-package [OPTIONS] [DIR]",
  positionals: [{
    name: "[DIR]",
    help: "The package directory to remove (Overridden by PACKAGE/PUBLISHER)",
    default: ".",
  }],
  flags: [
    { long: "package", short: "a", value: "PACKAGE", help: "Name of the package (Overrides DIR)" },
    { long: "publisher", short: "u", value: "PUBLISHER", help: "Name of the publisher (Overrides DIR)" },
    { long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "localhost node port" },
    {
      long: "url",
      value: "URL",
      refused: "nodes are reached on localhost: use --port (or `hyperdeno connect` for a tunnel)",
    },
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  let packageId: string;
  if (flags.package || flags.publisher) {
    if (!flags.package || !flags.publisher) throw new UsageError("--package and --publisher go together");
    packageId = `${flags.package}:${flags.publisher}`;
  } else packageId = readPackageDir(positionals[0]).packageId;
  if (packageId === "terminal:sys") throw new UsageError("terminal:sys is part of the node and cannot be removed");
  const map = (await askNode(port, KERNEL, { Debug: "ProcessMap" })).body as {
    Debug: { ProcessMap: Record<string, unknown> };
  };
  const ids = Object.keys(map.Debug.ProcessMap).filter((id) => id.endsWith(`:${packageId}`));
  const listed = await vfs(port, { path: `/${packageId}/pkg`, action: "ReadDir" });
  const files = (listed.ReadDir ?? []) as { path: string; file_type: string }[];
  if (ids.length === 0 && files.length === 0) {
    console.error(`remove-package: ${packageId} is not installed on the node at port ${port}`);
    return 1;
  }
  for (const id of ids) await askNode(port, KERNEL, { KillProcess: id });
  // The pkg drive's contents go (the VFS keeps drives themselves), and the record of what its scripts were granted.
  for (const e of files) {
    const path = e.path.startsWith("/") ? e.path : `/${e.path}`;
    const done = await vfs(port, { path, action: e.file_type === "Directory" ? "RemoveDirAll" : "RemoveFile" });
    if (done !== "Ok" as unknown) throw new UsageError(`the node could not remove ${path}: ${JSON.stringify(done)}`);
  }
  await vfs(port, { path: `/distro:sys/scripts/${packageId}.json`, action: "RemoveFile" });
  console.log(`removed ${packageId} from port ${port}${ids.length ? `: stopped ${ids.join(", ")}` : ""}`);
  return 0;
}
