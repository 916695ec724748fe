/** What the package's scripts share: asking a file-transfer main process and saying plainly when it cannot answer. */
import { type ProcessAddress, Request, SendError, splitArgs } from "@hyperdeno/process_lib";

/** The main process of this package on `node` (this node when omitted). */
export function mainAddress(me: ProcessAddress, node = me.node): string {
  return `${node}@file-transfer:${me.packageId()}`;
}

/** Sends `body` and parses the answer; a SendError becomes a sentence. */
export async function ask<T>(to: string, body: unknown, seconds = 15): Promise<T> {
  try {
    return (await Request.to(to).json(body).sendAndAwaitResponse(seconds)).json<T>();
  } catch (e) {
    if (e instanceof SendError) {
      const node = to.split("@")[0];
      throw new Error(
        e.kind === "Timeout"
          ? `${node} did not answer within ${seconds} s`
          : `${node} is offline or does not run ${to.split("@")[1]}`,
      );
    }
    throw e;
  }
}

/**
 * The script's words, and whether `flag` was among them (removed). A line the
 * script cannot read (an unknown `--flag`, an unclosed quote, `-h`) gives
 * `wrong`: what is wrong, then `usage`, to print instead.
 */
export function words(
  line: string,
  usage: string,
  flag?: string,
): { args: string[]; flagged: boolean; wrong?: string } {
  let all: string[];
  try {
    all = splitArgs(line);
  } catch (e) {
    return { args: [], flagged: false, wrong: `${(e as Error).message}; ${usage}` };
  }
  const args = all.filter((a) => a !== flag);
  const flagged = args.length !== all.length;
  if (args.some((a) => a === "-h" || a === "--help")) return { args, flagged, wrong: usage };
  const unknown = args.find((a) => a.startsWith("--"));
  if (unknown) {
    const known = flag ? ` (the one flag is ${flag})` : " (it takes no flags)";
    return { args, flagged, wrong: `unknown flag ${unknown}${known}; ${usage}` };
  }
  return { args, flagged };
}
