/** `build-start-package` (bs): `build` then `start-package`, as kit's. */
import { type CommandSpec, parseFlags, portFlag } from "./flags.ts";
import { BUILD_FLAGS, buildWithFlags } from "./build.ts";
import { startPackage } from "./start_package.ts";

export const spec: CommandSpec = {
  name: "build-start-package",
  summary: "Build and start a hyperdeno package",
  usage: "hyperdeno build-start-package [OPTIONS] [DIR]",
  positionals: [{ name: "[DIR]", help: "The package directory to build and start", default: "." }],
  flags: BUILD_FLAGS.map((f) =>
    f.long === "port" ? { ...f, help: "localhost node port (its dependencies' APIs come from there too)" } : f
  ),
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  await buildWithFlags(positionals[0], flags);
  return startPackage(positionals[0], port);
}
