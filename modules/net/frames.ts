/**
 * Frame channels: TCP carries each Noise message as a 2-byte big-endian
 * length and the bytes (and, before each KernelMessage's pieces, its 4-byte
 * length in the clear); WebSocket carries each as one Binary message. The
 * handshake and the encrypted link above are written once against this.
 */
export class LinkClosed extends Error {
  override name = "LinkClosed";
}

/** The connection was closed on this side before a message's first byte went out: it may go on another link. */
export class NotSent extends LinkClosed {
  override name = "NotSent";
}

/**
 * What a failed read or write says. A connection closed on this side (a deadline, an eviction, shutdown, a link
 * let go) makes Deno's pending or later I/O fail with "operation canceled" or "Bad resource ID", which say nothing
 * to a reader: they become one plain sentence. The peer's own errors (reset, broken pipe) keep their text.
 */
export function closedReason(e: unknown): string {
  if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
    return "the connection was closed on this side";
  }
  return (e as Error).message;
}

export interface FrameChannel {
  readonly transport: "tcp" | "ws";
  /** Sends frames, in order, in as few writes as the transport allows; TCP may put `head` before them, unframed. */
  send(frames: Uint8Array[], head?: Uint8Array): Promise<void>;
  /** TCP only: `head` in the clear, then each piece sealed by `seal` into the write buffer (TcpFrames.sendSealed). */
  sendSealed?(
    head: Uint8Array,
    pieces: Uint8Array[],
    seal: (piece: Uint8Array, out: Uint8Array) => number,
  ): Promise<void>;
  /** TCP only: a 4-byte big-endian length sent in the clear. */
  recvLength(): Promise<number>;
  /** The next frame; throws LinkClosed when the other side is gone. */
  recv(): Promise<Uint8Array>;
  /** Like recv, but the bytes may be a view valid only until the next call (for decrypting in place). */
  recvView(): Promise<Uint8Array>;
  close(): void;
  readonly remote: string;
}

export const MAX_FRAME = 65535;
/** The AEAD tag a sealed piece carries beyond its plaintext. */
const TAG = 16;

/** Bytes a TCP connection gathers frames into before each write; reused, so a message costs no new buffer. */
const STAGE = 1024 * 1024;

/** A TCP connection whose writes queue (so frames of two messages never interleave) and that closes once. */
export class QueuedConn {
  protected closed = false;
  private writing: Promise<void> = Promise.resolve();

  /** `onClose` runs once the connection is closed (an accepted one frees its listener slot). */
  constructor(readonly conn: Deno.TcpConn, private onClose?: () => void) {
    conn.setNoDelay(true);
  }

  protected write(bytes: Uint8Array): Promise<void> {
    return this.inTurn(() => this.writeFully(bytes));
  }

  /** Runs `task` once the writes queued before it are done; a failure closes the connection. */
  protected inTurn(task: () => Promise<void>): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (this.closed) throw new NotSent("the connection was closed on this side");
      try {
        await task();
      } catch (e) {
        this.close();
        throw new LinkClosed(closedReason(e));
      }
    });
    return this.writing;
  }

  protected async writeFully(bytes: Uint8Array) {
    let w = 0;
    while (w < bytes.length) w += await this.conn.write(bytes.subarray(w));
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
    this.onClose?.();
  }
}

export class TcpFrames extends QueuedConn implements FrameChannel {
  readonly transport = "tcp";
  private buf = new Uint8Array(1024 * 1024);
  private start = 0;
  private end = 0;

  get remote(): string {
    const a = this.conn.remoteAddr as Deno.NetAddr;
    return `tcp:${a.hostname}:${a.port}`;
  }

  private async fill(n: number) {
    while (this.end - this.start < n) {
      if (this.closed) throw new LinkClosed("connection closed");
      if (this.start > 0 && this.buf.length - this.end < n) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      let got: number | null;
      try {
        got = await this.conn.read(this.buf.subarray(this.end));
      } catch (e) {
        throw new LinkClosed(closedReason(e));
      }
      if (got === null) throw new LinkClosed("connection closed by peer");
      this.end += got;
    }
  }

  async recv(): Promise<Uint8Array> {
    return (await this.recvView()).slice();
  }

  async recvLength(): Promise<number> {
    await this.fill(4);
    const b = this.buf, i = this.start;
    this.start += 4;
    return ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
  }

  async recvView(): Promise<Uint8Array> {
    await this.fill(2);
    const len = (this.buf[this.start] << 8) | this.buf[this.start + 1];
    this.start += 2;
    await this.fill(len);
    const out = this.buf.subarray(this.start, this.start + len);
    this.start += len;
    return out;
  }

  /**
   * Copies every byte that arrives (those already read first) to `to` as it
   * is, until either side closes: a router splices TCP connections this way,
   * since only the two ends know where frames start.
   */
  async pipeTo(to: TcpFrames): Promise<void> {
    try {
      const early = this.takeBuffered();
      if (early.length) await to.write(early);
      const chunk = new Uint8Array(64 * 1024);
      while (!this.closed) {
        const got = await this.conn.read(chunk);
        if (got === null) break;
        await to.write(chunk.slice(0, got));
      }
    } catch { /* either side gone */ }
    this.close();
    to.close();
  }

  /** The first bytes already read may be consumed by a router that splices connections. */
  takeBuffered(): Uint8Array {
    const b = this.buf.slice(this.start, this.end);
    this.start = this.end;
    return b;
  }

  private stage: Uint8Array | null = null;

  /**
   * Sends `head` unframed, then each piece sealed by `seal` (which writes the
   * sealed bytes to the buffer it is given and returns their length, at most
   * the piece's and a tag's) behind its u16 length. Pieces are sealed when
   * their turn to be written comes, straight into one reused buffer written a
   * megabyte at a time, so a message costs no buffer of its own.
   */
  sendSealed(
    head: Uint8Array,
    pieces: Uint8Array[],
    seal: (piece: Uint8Array, out: Uint8Array) => number,
  ): Promise<void> {
    for (const p of pieces) if (p.length + TAG > MAX_FRAME) throw new RangeError("frame over 65535 bytes");
    return this.inTurn(async () => {
      const stage = this.stage ??= new Uint8Array(STAGE);
      stage.set(head);
      let o = head.length;
      for (const p of pieces) {
        if (o + 2 + p.length + TAG > STAGE) {
          await this.writeFully(stage.subarray(0, o));
          o = 0;
        }
        const n = seal(p, stage.subarray(o + 2, o + 2 + p.length + TAG));
        stage[o] = n >> 8;
        stage[o + 1] = n & 0xff;
        o += 2 + n;
      }
      if (o) await this.writeFully(stage.subarray(0, o));
    });
  }

  send(frames: Uint8Array[], head?: Uint8Array): Promise<void> {
    let size = head?.length ?? 0;
    for (const f of frames) {
      if (f.length > MAX_FRAME) throw new RangeError("frame over 65535 bytes");
      size += 2 + f.length;
    }
    const out = new Uint8Array(size);
    if (head) out.set(head);
    let o = head?.length ?? 0;
    for (const f of frames) {
      out[o] = f.length >> 8;
      out[o + 1] = f.length & 0xff;
      out.set(f, o + 2);
      o += 2 + f.length;
    }
    return this.write(out);
  }
}

export class WsFrames implements FrameChannel {
  readonly transport = "ws";
  private queue: Uint8Array[] = [];
  private waiting: { resolve(b: Uint8Array): void; reject(e: Error): void } | null = null;
  private closed: LinkClosed | null = null;

  constructor(private ws: WebSocket, readonly remote: string) {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        // Only Binary frames belong to the protocol.
        this.fail(new LinkClosed("text frame on a binary protocol"));
        return;
      }
      const b = new Uint8Array(e.data as ArrayBuffer);
      if (b.length > MAX_FRAME) return this.fail(new LinkClosed("frame over 65535 bytes"));
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w.resolve(b);
      } else this.queue.push(b);
    };
    ws.onclose = () => this.fail(new LinkClosed("websocket closed"));
    ws.onerror = () => this.fail(new LinkClosed("websocket error"));
  }

  private fail(e: LinkClosed) {
    if (!this.closed) this.closed = e;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.reject(e);
    }
    this.close();
  }

  recvView(): Promise<Uint8Array> {
    return this.recv();
  }

  recvLength(): Promise<number> {
    return Promise.reject(new LinkClosed("a WebSocket message carries its length inside"));
  }

  recv(): Promise<Uint8Array> {
    const b = this.queue.shift();
    if (b) return Promise.resolve(b);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiting = { resolve, reject });
  }

  send(frames: Uint8Array[], head?: Uint8Array): Promise<void> {
    if (head) return Promise.reject(new RangeError("a WebSocket message carries its length inside"));
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return Promise.reject(new LinkClosed("websocket closed"));
    for (const f of frames) this.ws.send(f);
    return Promise.resolve();
  }

  close() {
    try {
      this.ws.close();
    } catch { /* already closed */ }
  }
}

/** Opens a WebSocket and waits until it is open (or fails). */
export function openWs(url: string, timeoutMs: number): Promise<WsFrames> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new LinkClosed(`no answer from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(new WsFrames(ws, url));
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new LinkClosed(`could not open ${url}`));
    };
  });
}
