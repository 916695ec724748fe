/** `build`: bundles each process of a package into its pkg/ (as `kit build`). */
import { buildPackage } from "../runtime/packages/build.ts";
import type { CommandSpec } from "./flags.ts";
import { parseFlags } from "./flags.ts";

export const spec: CommandSpec = {
  name: "build",
  summary: "Build a hyperdeno package: bundle each process folder (with main.ts) into pkg/<process>.js",
  usage: "deno task build [DIR]",
  positionals: [{ name: "[DIR]", help: "The package directory to build", default: "." }],
  flags: [],
};

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parseFlags(spec, argv);
  const dir = positionals[0];
  const t = performance.now();
  const r = await buildPackage(dir);
  console.log(
    `built ${r.packageId}: ${r.built.map((b) => `pkg/${b}.js`).join(", ")} in ${Math.round(performance.now() - t)} ms`,
  );
  return 0;
}
