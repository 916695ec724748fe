/**
 * A worker's message loop: hands each message to `onMessage` until `done`
 * settles. SendErrors of plain sends come through as well (awaited requests
 * get theirs where they wait).
 */
import { awaitMessage, type Message, SendError } from "@hyperdeno/process_lib";

export async function pump(
  onMessage: (msg: Message) => void,
  done: Promise<unknown>,
  onSendError: (e: SendError) => void = () => {},
): Promise<void> {
  let finished = false;
  const stop = done.then(() => {
    finished = true;
    return null;
  }, () => {
    finished = true;
    return null;
  });
  while (!finished) {
    let msg: Message | null;
    try {
      msg = await Promise.race([awaitMessage(), stop]);
    } catch (e) {
      if (e instanceof SendError) {
        onSendError(e);
        continue;
      }
      throw e;
    }
    if (msg) onMessage(msg);
  }
}

/** A promise with its resolve at hand; the first resolve wins. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; settled: boolean } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  const d = {
    promise,
    settled: false,
    resolve: (v: T) => {
      d.settled = true;
      resolve(v);
    },
  };
  return d;
}
