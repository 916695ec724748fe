/**
 * Length-prefixed byte frames: a list of byte strings (or nulls) in one
 * buffer. Each frame is a 4-byte big-endian length, 0xFFFFFFFF for null.
 */
const NULL = 0xffffffff;

export function encodeFrames(items: (Uint8Array | null)[]): Uint8Array {
  let size = 0;
  for (const b of items) size += 4 + (b?.length ?? 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const b of items) {
    view.setUint32(o, b ? b.length : NULL);
    o += 4;
    if (b) {
      out.set(b, o);
      o += b.length;
    }
  }
  return out;
}

/** Decodes frames; returns null for bytes that are not a well-formed list. */
export function decodeFrames(buf: Uint8Array, max = 1 << 20): (Uint8Array | null)[] | null {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: (Uint8Array | null)[] = [];
  let o = 0;
  while (o < buf.length) {
    if (o + 4 > buf.length || out.length >= max) return null;
    const len = view.getUint32(o);
    o += 4;
    if (len === NULL) {
      out.push(null);
      continue;
    }
    if (o + len > buf.length) return null;
    out.push(buf.subarray(o, o + len));
    o += len;
  }
  return out;
}
