/** Ports that tests hand to a server another process binds a moment later. */
const handedOut = new Set<number>();

/**
 * A loopback port free now and never handed out before in this process, for a server another process binds a moment
 * later. Drawn at random from 20000-31999, below Linux's ephemeral range (32768-60999) where outgoing connections and
 * listeners on port 0 get theirs, so none of those takes it first; at random, so that test files running at once
 * rarely draw the same one (a port 0 listener's number, closed and handed on, is free for the kernel to reuse).
 */
export function freePort(): number {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      continue; // in use
    }
    handedOut.add(port);
    return port;
  }
}
