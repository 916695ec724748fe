/** Asking for a password at the terminal without echoing it (as kit's rpassword does). */
import { UsageError } from "./flags.ts";

/**
 * Reads a line from stdin with echo off when stdin is a terminal (Enter ends it, Backspace deletes, Ctrl-C or
 * Ctrl-D gives up); from a pipe, the first line.
 */
export async function promptPassword(question: string): Promise<string> {
  const out = new TextEncoder();
  await Deno.stderr.write(out.encode(question));
  const tty = Deno.stdin.isTerminal();
  if (tty) Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(64);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      for (const b of buf.subarray(0, n)) {
        if (b === 0x03 || (b === 0x04 && tty)) throw new UsageError("no password given");
        if (b === 0x0d || b === 0x0a) return new TextDecoder().decode(new Uint8Array(bytes));
        if (b === 0x7f || b === 0x08) bytes.pop();
        else bytes.push(b);
      }
    }
    return new TextDecoder().decode(new Uint8Array(bytes));
  } finally {
    if (tty) Deno.stdin.setRaw(false);
    await Deno.stderr.write(out.encode("\n"));
  }
}
