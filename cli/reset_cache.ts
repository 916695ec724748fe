/**
 * `reset-cache`: forgets what hyperdeno keeps between runs outside a node's
 * home, as `kit reset-cache`: the fake chains' registration files in /tmp
 * (a name stays bound to the key that first registered it there, so a fake
 * node booted without --persist makes a new key the chain then refuses) and
 * the prebuilt bundles of the distro packages (rebuilt at the next boot).
 */
import type { CommandSpec } from "./flags.ts";
import { parseFlags } from "./flags.ts";
import { APP_STORE, DISTRO_PACKAGES } from "../runtime/boot.ts";

export const spec: CommandSpec = {
  name: "reset-cache",
  summary: "Reset hyperdeno's cache (fake chain registrations in /tmp, prebuilt distro bundles)",
  usage: "hyperdeno reset-cache",
  positionals: [],
  flags: [],
};

const CHAIN_FILES = /^hyperdeno-(fakechain|fake-net-chain)-\d+\.jsonl$/;
const DISTRO = new URL("../packages/", import.meta.url).pathname;

export async function run(argv: string[]): Promise<number> {
  parseFlags(spec, argv);
  const removed: string[] = [];
  for (const e of Deno.readDirSync("/tmp")) {
    if (e.isFile && CHAIN_FILES.test(e.name)) {
      await Deno.remove(`/tmp/${e.name}`);
      removed.push(`/tmp/${e.name}`);
    }
  }
  for (const pkg of [...DISTRO_PACKAGES, APP_STORE]) {
    try {
      for (const e of Deno.readDirSync(`${DISTRO}${pkg}/pkg`)) {
        if (e.isFile && /\.js(\.map)?$/.test(e.name)) {
          await Deno.remove(`${DISTRO}${pkg}/pkg/${e.name}`);
          removed.push(`${pkg}/pkg/${e.name}`);
        }
      }
    } catch { /* a compiled binary's packages are read-only: nothing to reset */ }
  }
  console.log(removed.length ? `removed ${removed.join(", ")}` : "the cache is empty");
  return 0;
}
