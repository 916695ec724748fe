/** One way to give up waiting. */

/**
 * `p`, or a rejection with `timedOut()` after `ms` milliseconds (the timer is
 * cleared either way, so it never keeps the process alive).
 */
export async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  timedOut: () => Error = () => new Error(`timed out after ${ms} ms`),
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => timer = setTimeout(() => reject(timedOut()), ms))]);
  } finally {
    clearTimeout(timer);
  }
}
