/**
 * Reading a zip archive without trusting it: the central directory is parsed
 * here (entry count checked before anything is inflated), and each entry is
 * inflated by zlib with a cap on its real output, whatever the header claims.
 * ZIP64 and encryption are refused.
 */
import { inflateRawSync } from "node:zlib";

export class ZipLimitError extends Error {
  override name = "ZipLimitError";
}

export interface ZipEntry {
  name: string;
  method: number;
  /** Compressed bytes of the entry, as stored. */
  data: Uint8Array;
}

const EOCD = 0x06054b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

/** The archive's entries in central-directory order; throws ZipLimitError past `maxEntries`. */
export function zipEntries(zip: Uint8Array, maxEntries: number): ZipEntry[] {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (v.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive: no end of central directory");
  const count = v.getUint16(eocd + 10, true);
  let at = v.getUint32(eocd + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new Error("ZIP64 archives are not supported");
  if (count > maxEntries) throw new ZipLimitError(`the archive has ${count} entries, more than ${maxEntries}`);
  const out: ZipEntry[] = [];
  const td = new TextDecoder();
  for (let n = 0; n < count; n++) {
    if (at + 46 > zip.length || v.getUint32(at, true) !== CENTRAL) throw new Error("corrupt central directory");
    const flags = v.getUint16(at + 8, true);
    const method = v.getUint16(at + 10, true);
    const csize = v.getUint32(at + 20, true);
    const nameLen = v.getUint16(at + 28, true);
    const extraLen = v.getUint16(at + 30, true);
    const commentLen = v.getUint16(at + 32, true);
    const local = v.getUint32(at + 42, true);
    const name = td.decode(zip.subarray(at + 46, at + 46 + nameLen));
    if (flags & 1) throw new Error(`${name}: encrypted entries are not supported`);
    if (method !== 0 && method !== 8) throw new Error(`${name}: unknown compression method ${method}`);
    if (local + 30 > zip.length || v.getUint32(local, true) !== LOCAL) throw new Error(`${name}: corrupt local header`);
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    if (start + csize > zip.length) throw new Error(`${name}: entry runs past the end of the archive`);
    out.push({ name, method, data: zip.subarray(start, start + csize) });
    at += 46 + nameLen + extraLen + commentLen;
  }
  if (new Set(out.map((e) => e.name)).size !== out.length) throw new Error("the archive names one path twice");
  return out;
}

/**
 * One entry's bytes. `budget.left` is what the whole archive may still unpack
 * to; zlib stops the moment its real output passes that (ZipLimitError).
 */
export function inflateEntry(e: ZipEntry, budget: { left: number }): Uint8Array {
  let out: Uint8Array;
  if (e.method === 0) out = e.data;
  else {
    try {
      out = e.data.length ? inflateRawSync(e.data, { maxOutputLength: Math.max(1, budget.left) }) : new Uint8Array();
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" || /larger than/.test((err as Error).message)) {
        throw new ZipLimitError("the archive unpacks to more bytes than allowed");
      }
      throw new Error(`${e.name}: ${(err as Error).message}`);
    }
  }
  budget.left -= out.length;
  if (budget.left < 0) throw new ZipLimitError("the archive unpacks to more bytes than allowed");
  return out;
}
