/** What send and get share besides Kino Files: a seconds flag, and tidying up on Ctrl-C. */
import { UsageError } from "./flags.ts";

export function secondsFlag(v: unknown, flag: string): number {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number of seconds, got "${v}"`);
  return n;
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
