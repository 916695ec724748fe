/**
 * The byte stream between the kernel and one process host: a Unix socket where the system has them, else the host's
 * stdin and stdout. A host reads its stdin on a thread of Deno's blocking pool (stdin may be a terminal or a file,
 * which nothing can poll), so every batch the kernel sent woke two threads in turn; a socket is read on the host's
 * event loop. Measured with two `deno run`s echoing 100-byte messages: a round trip 98-127 µs and 0.34-0.43 CPU-s
 * per 5000 on the pipe, 44-92 µs and 0.14-0.24 CPU-s on the socket; a ping-pong between two processes crosses twice.
 *
 * The socket is a path in a directory of its own (mode 0700, mkdtemp's), which only this host may read and write
 * (its permissions), and which goes as soon as the host has connected: the kernel takes one connection and stops
 * listening. The host's threads inherit its permissions, but process code has no Deno API (lockdown.ts).
 */

export interface HostChannel {
  /** Writes `bytes` whole, after the writes before it. */
  write(bytes: Uint8Array): Promise<void>;
  /** Calls `onChunk` with each chunk read until the host closes its end; `borrowed`: its buffer is reused after. */
  read(onChunk: (chunk: Uint8Array, borrowed: boolean) => void): Promise<void>;
  close(): void;
}

/** Where a host connects to the kernel, and how the kernel waits for it. */
export interface HostSocket {
  path: string;
  /** The host's connection, once made; rejects if `ended` resolves first. The socket is gone either way. */
  accept(ended: Promise<unknown>): Promise<HostChannel>;
  /** No host will come (its start failed): the socket goes. */
  close(): void;
}

/** Parts this large are copied before they go to a pipe (pipeChannel). */
const COPY_FROM = 64 * 1024;
/** Longer paths do not fit a sockaddr_un (108 bytes on Linux, 104 on macOS). */
const MAX_PATH = 100;

/** A socket for one host to connect to, or null: pipes then (no Unix sockets here, or HYPERDENO_HOST_PIPES=1). */
export function hostSocket(): HostSocket | null {
  if (Deno.build.os === "windows" || Deno.env.get("HYPERDENO_HOST_PIPES") === "1") return null;
  let dir: string;
  try {
    dir = Deno.makeTempDirSync({ prefix: "hyperdeno-host-" });
  } catch {
    return null;
  }
  const path = `${dir}/h.sock`;
  const gone = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  let listener: Deno.UnixListener;
  try {
    if (path.length > MAX_PATH) throw new RangeError("path too long");
    listener = Deno.listen({ transport: "unix", path });
  } catch {
    gone();
    return null;
  }
  return {
    path,
    close() {
      listener.close();
      gone();
    },
    async accept(ended) {
      try {
        const conn = await Promise.race([
          listener.accept(),
          ended.then(() => Promise.reject(new Error("the process host ended before it connected"))),
        ]);
        return socketChannel(conn);
      } finally {
        listener.close();
        await gone();
      }
    },
  };
}

function socketChannel(conn: Deno.Conn): HostChannel {
  let last = Promise.resolve();
  let closed = false;
  return {
    write(bytes) {
      // In order: each write starts when the one before has written all of its bytes. Bytes that changed length
      // meanwhile (a buffer released under them) would leave the frame short and the host reading the next one as its
      // rest: refused, and the caller ends the host.
      const n = bytes.length;
      last = last.then(async () => {
        for (let w = 0; w < n;) {
          if (bytes.length !== n) throw new Error(`a ${n}-byte part was released before it was written`);
          w += await conn.write(bytes.subarray(w));
        }
      });
      return last;
    },
    async read(onChunk) {
      // Plain reads into one buffer: a ReadableStream allocates a chunk per read, and a ping-pong is all small reads.
      const buf = new Uint8Array(256 * 1024);
      try {
        for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) onChunk(buf.subarray(0, n), true);
      } catch (e) {
        if (!closed) throw e;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* closed already */ }
    },
  };
}

/** The host's stdin and stdout. */
export function pipeChannel(child: Deno.ChildProcess): HostChannel {
  const writer = child.stdin.getWriter();
  return {
    // The stream's own loop writes a chunk in pieces as the pipe takes them, and cannot tell if its bytes were
    // released meanwhile: a large part goes as a copy of its own (the fallback's cost, one copy, as before parts).
    write: (bytes) => writer.write(bytes.length >= COPY_FROM ? bytes.slice() : bytes),
    async read(onChunk) {
      for await (const chunk of child.stdout) onChunk(chunk, false);
    },
    close: () => void writer.close().catch(() => {}),
  };
}
