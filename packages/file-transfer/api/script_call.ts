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

/** The script's words, and whether `flag` was among them (removed). */
export function words(line: string, flag?: string): { args: string[]; flagged: boolean } {
  const all = splitArgs(line);
  const args = all.filter((a) => a !== flag);
  return { args, flagged: args.length !== all.length };
}
