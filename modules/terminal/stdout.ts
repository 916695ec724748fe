/**
 * The node's standard output, for the terminal's lines. Whoever reads it may
 * go away (a pipe closed, a supervisor that read "node ready" and stopped
 * reading): the node keeps running and its lines are dropped, instead of a
 * BrokenPipe error ending the node. A short write is finished.
 */
let gone = false;

export function writeStdout(bytes: Uint8Array) {
  if (gone) return;
  try {
    for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
  } catch {
    gone = true;
  }
}
