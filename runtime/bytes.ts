/** Bytes as text and back (hex, base64), and joining them: one copy for the whole runtime. */
import { ParseError } from "./types.ts";

/** Lowercase hex, two characters a byte. */
export const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** Hex (either case) to bytes; anything else is a ParseError. */
export function fromHex(s: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(s)) throw new ParseError("not hex");
  return Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** Base64 of any length (encoded in chunks, so a large blob does not overflow the call stack). */
export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) s += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(s);
}

/** Base64 to bytes; invalid input is a ParseError, not a crash. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    throw new ParseError("invalid base64");
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The parts one after another, in a new array. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return joinBytes(parts);
}

/** Like concat, for a list of any length (a spread of many chunks would overflow the call). */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
