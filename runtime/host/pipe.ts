/**
 * The frames between the kernel and a process host (a child `deno run`, see
 * host.ts) over the host's stdin and stdout: a 4-byte big-endian payload
 * length, a 4-byte thread number, the payload. Thread 0 carries control
 * messages (node:v8 serialized); any other thread number carries one batch of
 * that process thread in the binary format of binary.ts, which the host
 * passes through without reading.
 */

import { LIMITS } from "../limits.ts";

/**
 * A process thread's batch goes at 32 MiB, plus the one message that took it past (at most a blob and a body); more
 * is a broken or lying thread, which its host ends, or a broken host, which the kernel ends.
 */
export const MAX_BATCH_FRAME = 48 * 2 ** 20 + LIMITS.blobBytes + LIMITS.bodyBytes;

/** Frames on thread 0: what the kernel tells a host, and what a host reports. */
export const CONTROL = 0;
/** A frame's header: its payload's length, its thread. */
export const FRAME_HEADER = 8;
const HEADER = FRAME_HEADER;

export type ToHost =
  | { t: "config"; heapMb: number }
  | { t: "start"; thread: number }
  | { t: "kill"; thread: number };

/**
 * A process thread ended by itself (`ended`), or cannot be stopped or is stuck
 * where no message reaches it (`stuck`): only ending the host stops it.
 * `ready` once, when the host has started.
 */
export type FromHost =
  | { t: "ended"; thread: number; error: string | null }
  | { t: "stuck"; thread: number; why: string }
  /** The host has started, and its factory with it: a process started now waits for no start-up. */
  | { t: "ready" };

/** Writes the header into a frame built with room for it (binary.ts): no copy of the payload. */
export function stamp(f: Uint8Array, thread: number): Uint8Array {
  const view = new DataView(f.buffer, f.byteOffset, HEADER);
  view.setUint32(0, f.length - HEADER);
  view.setUint32(4, thread);
  return f;
}

/** The same for a frame built as parts (binary.ts's encodeToProcess): the header goes into the first. */
export function stampParts(parts: Uint8Array[], thread: number): Uint8Array[] {
  let length = 0;
  for (const p of parts) length += p.length;
  const view = new DataView(parts[0].buffer, parts[0].byteOffset, HEADER);
  view.setUint32(0, length - HEADER);
  view.setUint32(4, thread);
  return parts;
}

export function frame(thread: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, thread);
  out.set(payload, HEADER);
  return out;
}

/** Joins frames into one buffer, so a turn's frames cost one write. */
export function joined(frames: Uint8Array[]): Uint8Array {
  if (frames.length === 1) return frames[0];
  let size = 0;
  for (const f of frames) size += f.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

export class FrameTooLong extends Error {
  override name = "FrameTooLong";
}

/**
 * Frames at least this long are gathered into a buffer of their own as their bytes come (one copy), rather than
 * kept as the chunks they came in and joined at the end (two, and the chunks and the frame alive at once).
 */
const GATHER_FROM = 64 * 1024;
/**
 * Past this a frame's buffer is not made from its header alone (a header is 8 bytes; a host that lied in one would
 * have the node hold a buffer of any size up to the frame limit): such frames are kept as chunks and joined.
 */
const GATHER_UP_TO = 64 * 1024 * 1024;

/**
 * Cuts a byte stream into frames. A frame that arrives whole in one chunk is a
 * view of it; a longer one is gathered into a buffer of its own, so a 100 MiB
 * frame costs one copy, not one per chunk. A frame longer than `maxBytes` is
 * refused before its bytes are buffered.
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private have = 0;
  private need = -1;
  private thread = 0;
  /** A long frame being gathered, and how much of it has come. */
  private gathering: Uint8Array | null = null;
  private filled = 0;

  /**
   * `onFrame`'s `owned`: the payload is the whole of a buffer the reader made for it and keeps no hold on, which
   * the receiver may keep, transfer or release; otherwise it is a view that must be copied if kept.
   */
  constructor(
    private maxBytes: number,
    private onFrame: (thread: number, payload: Uint8Array, owned: boolean) => void,
  ) {}

  /**
   * `borrowed`: the caller reuses `chunk` once this returns (a read buffer),
   * so what is left of it is copied; a frame inside it reaches onFrame as a
   * view, which must be copied if kept.
   */
  push(chunk: Uint8Array, borrowed = false) {
    if (this.gathering) {
      chunk = this.gather(chunk);
      if (chunk.length === 0) return;
    }
    this.chunks.push(chunk);
    this.have += chunk.length;
    try {
      this.cut();
    } finally {
      // What is left of this chunk can only be the last one kept: earlier chunks were copied when pushed.
      const last = this.chunks.length - 1;
      if (borrowed && last >= 0 && this.chunks[last].buffer === chunk.buffer) {
        this.chunks[last] = this.chunks[last].slice();
      }
    }
  }

  /** Copies what `chunk` holds of the frame being gathered; returns the rest of it. */
  private gather(chunk: Uint8Array): Uint8Array {
    const into = this.gathering!;
    const k = Math.min(chunk.length, into.length - this.filled);
    into.set(chunk.subarray(0, k), this.filled);
    this.filled += k;
    if (this.filled < into.length) return chunk.subarray(chunk.length);
    this.gathering = null;
    this.need = -1;
    this.onFrame(this.thread, into, true);
    return chunk.subarray(k);
  }

  private cut() {
    for (;;) {
      if (this.need < 0) {
        if (this.have < HEADER) return;
        const head = this.take(HEADER);
        const view = new DataView(head.buffer, head.byteOffset, HEADER);
        this.need = view.getUint32(0);
        this.thread = view.getUint32(4);
        if (this.need > this.maxBytes) {
          throw new FrameTooLong(`a frame of ${this.need} bytes (at most ${this.maxBytes})`);
        }
      }
      if (this.have < this.need) {
        if (this.need < GATHER_FROM || this.need > GATHER_UP_TO) return;
        // The rest comes in later chunks: what came so far goes into the frame's own buffer, and so will they.
        this.gathering = new Uint8Array(this.need);
        this.filled = 0;
        const kept = this.chunks;
        this.chunks = [];
        this.have = 0;
        for (const c of kept) this.gather(c);
        return;
      }
      const owned = (this.chunks[0]?.length ?? 0) < this.need;
      const payload = this.take(this.need);
      this.need = -1;
      this.onFrame(this.thread, payload, owned);
    }
  }

  private take(n: number): Uint8Array {
    this.have -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
