/**
 * Text made safe for a terminal. Whatever a process or another node says is
 * shown, never obeyed: control characters (ESC, CR, backspace, C1 codes, the
 * Unicode line separators and bidirectional overrides) are written out as
 * `\x1b`, `\r`, `\u202e`, so no text can move the cursor, clear the screen,
 * hide itself or overwrite the start of a line. Printable Unicode stays.
 */

// \n splits lines (the caller handles it) and \t is harmless; everything else below 0x20 is escaped.
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\r": "\\r", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\0" };

function visible(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`);
}

/** `line` with every control character written out visibly (newlines too). */
export function printable(line: string): string {
  return line.replace(CONTROL, visible).replaceAll("\n", "\\n");
}

/** The lines of `text`, each made printable. */
export function printableLines(text: string): string[] {
  return text.split("\n").map(printable);
}
