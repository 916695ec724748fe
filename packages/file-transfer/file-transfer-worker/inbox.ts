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
  // Not Promise.race([awaitMessage(), done]): every race leaves a reaction on the long-lived `done`
  // that holds the race's settled promise, and so the message it resolved with (a chunk and its
  // blob), until `done` settles: a transfer's every byte, kept.
  let finished = false;
  let wake: (() => void) | null = null;
  done.finally(() => {
    finished = true;
    wake?.();
  });
  while (!finished) {
    let msg: Message | null;
    try {
      msg = await new Promise<Message | null>((resolve, reject) => {
        wake = () => resolve(null);
        awaitMessage().then(resolve, reject);
      });
    } catch (e) {
      if (e instanceof SendError) {
        onSendError(e);
        continue;
      }
      throw e;
    } finally {
      wake = null;
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
