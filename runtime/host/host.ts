/**
 * A process host: a child `deno run` that a few packages share
 * (runtime/kernel/host_pool.ts), with no permissions but reading the process
 * bootstrap, which runs their process threads
 * (threads.ts). It exists so that a thread nothing else can stop (a
 * synchronous endless loop, a heap exhausted in synchronous code) stops when
 * the kernel ends this OS process.
 *
 * It speaks frames (pipe.ts) on the Unix socket its first argument names
 * (the kernel's, runtime/kernel/host_channel.ts), or without one on stdin and
 * stdout, and nothing else: batches pass through as the bytes the bootstrap
 * encoded (binary.ts), so the host never reads what its processes send; it
 * writes each frame's header. Process code cannot reach the socket or the
 * pipes: the bootstrap removes `Deno` before process code runs. When the
 * kernel's end closes (the node is gone) the host ends, whatever its threads
 * are doing.
 */
import {
  CONTROL,
  frame,
  FRAME_HEADER,
  FrameReader,
  type FromHost,
  joined,
  MAX_BATCH_FRAME,
  stamp,
  type ToHost,
} from "./pipe.ts";
import { ThreadPool } from "./threads.ts";
import { deserialize, serialize } from "node:v8";

/** The kernel is trusted; the cap only guards against a broken pipe. */
const MAX_FRAME = 2 ** 30;

const ports = new Map<number, MessagePort>();
let out: Uint8Array[] = [];

/** The kernel's socket, read on this event loop (stdin is read on a thread of Deno's blocking pool). */
const socket = Deno.args[0] ? await Deno.connect({ transport: "unix", path: Deno.args[0] }) : null;

function write(f: Uint8Array) {
  if (out.length === 0) queueMicrotask(flush);
  out.push(f);
}

// A large write is made asynchronously: one that waits for the kernel to read must not stop this
// thread reading stdin, or the kernel's deliveries back up while the process's sends go out.
const stdout = (socket ?? Deno.stdout).writable.getWriter();
/**
 * A write this small goes at once, from this thread, when no asynchronous one is under way (so
 * bytes stay in order): it fits the pipe's buffer, and handing it to the writer's own thread
 * cost a thread wake-up per batch (measured: a bound HTTP path answered 6.5k/s this way, 5.1k/s
 * the other, in one A/B run).
 */
const SYNC_WRITE = 16 * 1024;
/** Frames joined into one write up to this many bytes; past it each goes as it is, not copied again. */
const JOIN_BYTES = 256 * 1024;
let writing = 0;

function flush() {
  const frames = out;
  out = [];
  let size = 0;
  for (const f of frames) size += f.length;
  // A socket's write is tried at once on this thread anyway (no blocking pool for sockets).
  if (!socket && writing === 0 && size <= SYNC_WRITE) {
    const bytes = joined(frames);
    try {
      for (let w = 0; w < bytes.length;) w += Deno.stdout.writeSync(bytes.subarray(w));
    } catch {
      Deno.exit(0); // the node is gone
    }
    return;
  }
  // The writer keeps the writes in order.
  for (const bytes of size <= JOIN_BYTES ? [joined(frames)] : frames) {
    writing++;
    stdout.write(bytes).then(() => writing--, () => Deno.exit(0));
  }
}

// Threads start here, on the main thread: a node worker started by any other thread hears its
// first message ~500 ms late (measured), which a spawn would wait for. Starting one holds the
// relay up for a few milliseconds; the threads inherit this process's permissions, which are
// none but reading the bootstrap.
function report(m: FromHost) {
  if (m.t !== "ready") {
    ports.get(m.thread)?.close();
    ports.delete(m.thread);
  }
  write(frame(CONTROL, serialize(m)));
}

const pool = new ThreadPool({
  report,
  bytes: true,
  watch: true,
  // One warm thread (~10 MiB), once the host's processes start on demand.
  warm: 1,
});

function control(m: ToHost) {
  if (m.t === "config") {
    pool.configure(m.heapMb);
    write(frame(CONTROL, serialize({ t: "ready" } satisfies FromHost)));
  } else if (m.t === "start") {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = (e: MessageEvent<unknown>) => {
      // The bootstrap left room for the header (binary.ts); the host stamps it, so no thread writes another's. Only a
      // frame in memory of its own: one over a SharedArrayBuffer stays the thread's to rewrite, header and all, until
      // the socket has taken it (a review forged a co-tenant's sends so, by making the bootstrap's Uint8Array shared).
      const f = e.data;
      if (!(f instanceof Uint8Array) || !(f.buffer instanceof ArrayBuffer) || f.length < FRAME_HEADER) return;
      // Past the kernel's cap the kernel would end this host, and every process in it: the thread's process ends alone.
      if (f.length - FRAME_HEADER > MAX_BATCH_FRAME) {
        pool.kill(m.thread);
        const why = `it sent a batch of ${f.length - FRAME_HEADER} bytes, over ${MAX_BATCH_FRAME}`;
        return report({ t: "ended", thread: m.thread, error: why });
      }
      stamp(f, m.thread);
      write(f);
    };
    ports.set(m.thread, port1);
    // Batches for it wait in the channel until its thread takes port2.
    if (starting.push([m.thread, port2]) === 1) setTimeout(startNext, 0);
  } else if (m.t === "kill") {
    ports.get(m.thread)?.close();
    ports.delete(m.thread);
    const queued = starting.findIndex(([t]) => t === m.thread);
    if (queued >= 0) starting.splice(queued, 1)[0][1].close();
    else pool.kill(m.thread);
  }
}

/**
 * Threads start one per turn of the event loop: starting one blocks this thread (100-400 ms on a busy machine),
 * and a burst of them (a node's boot, a package spawning many) would stop the relay for every process here for
 * seconds, and hold up the pongs by which the pool tells a stuck thread from a busy one.
 */
const starting: [number, MessagePort][] = [];
function startNext() {
  const next = starting.shift();
  if (next) pool.start(next[0], next[1]);
  if (starting.length) setTimeout(startNext, 0);
}

const reader = new FrameReader(MAX_FRAME, (thread, payload, owned) => {
  if (thread === CONTROL) control(deserialize(payload) as ToHost);
  else {
    // Handed over whole, with a buffer of its own: a view would carry the whole chunk it came in across.
    const own = owned ? payload : payload.slice();
    ports.get(thread)?.postMessage(own, [own.buffer as ArrayBuffer]);
  }
});
try {
  // Plain reads: a ReadableStream costs more per chunk, and a ping-pong is all small chunks.
  const buf = new Uint8Array(256 * 1024);
  const input = socket ?? Deno.stdin;
  for (let n = await input.read(buf); n !== null; n = await input.read(buf)) {
    reader.push(buf.subarray(0, n), true);
  }
} finally {
  Deno.exit(0);
}
