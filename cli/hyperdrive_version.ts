/**
 * kit's `-v/--version <VERSION>` on boot-fake-node and chain: which Hyperdrive release to download and run (or
 * whose chain state to load). hyperdeno is the node and deploys its own Hypermap, so the one version there is is
 * `latest`, this hyperdeno; any other value is refused with that reason rather than ignored.
 */
import { type FlagSpec, UsageError } from "./flags.ts";
import { VERSION } from "./version.ts";

export function hyperdriveVersionFlag(of: "node" | "chain"): FlagSpec {
  return {
    long: "version",
    short: "v",
    default: "latest",
    value: "VERSION",
    help: of === "node"
      ? "kit's Hyperdrive version to boot; only latest: the node is this hyperdeno"
      : "kit's Hyperdrive version to run the chain for; only latest: the chain this hyperdeno's nodes use",
  };
}

/** Accepts kit's `latest`; refuses a release number with what it would mean here. */
export function checkHyperdriveVersion(value: unknown, of: "node" | "chain") {
  if (value === "latest") return;
  const what = of === "node"
    ? "kit downloads that Hyperdrive release, but here the node is this hyperdeno itself"
    : "kit loads that Hyperdrive release's chain state, but here the chain gets this hyperdeno's own Hypermap";
  throw new UsageError(`-v ${value}: ${what} (${VERSION}); the only version is latest (or leave -v out)`);
}
