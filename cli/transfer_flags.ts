/** What send and get share besides Kino Files: the --wait flag, and tidying up on Ctrl-C. */
import { type FlagSpec, UsageError } from "./flags.ts";

export const WAIT_FLAG: FlagSpec = {
  long: "wait",
  default: "60",
  value: "SECONDS",
  help: "How long an interrupted transfer may take to resume",
};

/** --wait in milliseconds, or a UsageError. */
export function waitMs(v: unknown): number {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) throw new UsageError(`--wait must be a number of seconds, got "${v}"`);
  return n * 1000;
}

/**
 * Runs `tidy` on Ctrl-C, then exits 130 as an interrupted command does; what
 * the command started in the node (a staged copy, a download) is not left
 * behind. Returns the function that stops listening.
 */
export function onInterrupt(tidy: () => Promise<void>): () => void {
  const handler = () => {
    tidy().catch(() => {}).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", handler);
  return () => Deno.removeSignalListener("SIGINT", handler);
}
