/**
 * The kernel's side of one process host (runtime/host/host.ts): a child
 * `deno run` that runs process threads of the packages host_pool.ts gives it.
 * Each thread gets a port that looks like a MessagePort to Running, relayed
 * over the host's stdin and stdout as frames (runtime/host/pipe.ts) of binary
 * batches (runtime/host/binary.ts); the kernel numbers the threads and the
 * host stamps each frame with its port's, so a frame's thread number is never
 * a process's word.
 *
 * The host runs untrusted code, so everything it sends is untrusted input:
 * frames are capped, control messages checked field by field, and batches go
 * through the kernel's usual validation. A host that breaks the protocol, has
 * a stuck thread, or dies is ended (SIGKILL), and every process it ran has
 * ended: the kernel applies each one's OnExit. A stuck thread's co-tenants
 * hear that they were taken down with it (`collateral`), not that they failed.
 */
import { deserialize, serialize } from "node:v8";
import {
  CONTROL,
  frame,
  FrameReader,
  type FromHost,
  joined,
  MAX_BATCH_FRAME,
  stampParts,
  type ToHost,
} from "../host/pipe.ts";
import { decodeFromProcess, encodeToProcess, MalformedBatch } from "../host/binary.ts";
import type { FromProcess, ToProcess } from "../host/protocol.ts";
import type { ProcessId } from "../types.ts";
import { spawnDeno } from "./module_worker.ts";
import { type HostChannel, hostSocket, pipeChannel } from "./host_channel.ts";
import type { ProcessThread, ThreadPort } from "./sandbox.ts";

const ENTRY = new URL("../host/host.ts", import.meta.url);
const MAX_ERROR_CHARS = 16_384;
/** Threads the kernel stopped, remembered so a stuck report about one (its code ran on) names its process. */
const KILLED_KEPT = 1024;
/** Frames (and parts of frames) queued for a host are joined into writes of up to this many bytes. */
const JOIN_BYTES = 256 * 1024;
/** A part this large is written as it is, never copied into a join. */
const WRITE_ALONE = 64 * 1024;
/** A host with no processes left waits this long for the package's next one. */
const IDLE_MS = 30_000;
/** Why a host that ran out of processes ended. */
export const IDLE = "idle";

/** The port Running sees: messages in and out, over the pipe as binary frames. */
class PipePort implements ThreadPort {
  readonly messages = true;
  onmessage: ((e: MessageEvent) => void) | null = null;
  constructor(private send: (msgs: ToProcess[]) => void) {}
  postMessage(msgs: unknown) {
    this.send(msgs as ToProcess[]);
  }
}

/** How a process's thread ended by itself: `collateral` when its host was ended for another process's sake. */
export type ThreadEnded = (error: string | null, collateral?: boolean) => void;

interface HostedThread {
  id: ProcessId;
  port: PipePort;
  onEnd: ThreadEnded;
}

/**
 * Cuts a host's stream into frames for `receive`, each a buffer the kernel may keep views of: a payload the reader
 * does not own is a view of the socket's read buffer, which the next read overwrites, so it goes as a copy (found by a
 * review: decoded fields of 128 KiB or more stayed views of it, and a package read a co-tenant's blob bytes).
 */
export function hostFrames(receive: (thread: number, payload: Uint8Array) => void): FrameReader {
  return new FrameReader(
    MAX_BATCH_FRAME,
    (thread, payload, owned) => receive(thread, owned ? payload : payload.slice()),
  );
}

/** Why a host ended, for the kernel's log: the stuck process that made it end, and who went down with it. */
export interface HostEnd {
  why: string;
  stuck: ProcessId | null;
  taken: ProcessId[];
}

export class ProcessHost {
  private child: Deno.ChildProcess;
  /** The stream to the host, once it is there (host_channel.ts). */
  private channel: HostChannel | null = null;
  private threads = new Map<number, HostedThread>();
  private killed = new Map<number, ProcessId>();
  private out: Uint8Array[] = [];
  private writing = false;
  private idle: ReturnType<typeof setTimeout> | null = null;
  private gone = false;
  /** Resolves once the host's OS process has ended and its pipes are closed. */
  readonly done: Promise<void>;
  /** Resolves once the host has started (or ended). */
  readonly ready: Promise<void>;
  private isReady!: () => void;

  /** The packages it was given (host_pool.ts). */
  readonly packages = new Set<string>();

  constructor(
    heapMb: number,
    bootstrapFiles: string[],
    private onGone: (host: ProcessHost, end: HostEnd) => void,
  ) {
    this.ready = new Promise((r) => this.isReady = r);
    const socket = hostSocket();
    const own = socket ? [socket.path] : [];
    let child: Deno.ChildProcess;
    try {
      child = this.child = spawnDeno(
        ENTRY,
        { read: [...bootstrapFiles, ...own], write: own, net: own.map((p) => `unix:${p}`) },
        [
          "--disallow-code-generation-from-strings",
          // A belt on top of each thread's own heap limit.
          `--max-old-space-size=${heapMb}`,
        ],
        own,
        !socket,
      );
    } catch (e) {
      socket?.close();
      throw e;
    }
    const reader = hostFrames((thread, payload) => this.receive(thread, payload));
    // Nothing is written before the host connects: writes queue until then.
    this.writing = socket !== null;
    const channel = socket ? socket.accept(child.status) : Promise.resolve(pipeChannel(child));
    const reading = channel.then((c) => {
      this.channel = c;
      if (this.gone) return c.close();
      this.writing = false;
      this.flush();
      return c.read((chunk, borrowed) => reader.push(chunk, borrowed));
    }).then(
      () => this.end("its process host ended"),
      (e) => this.end(`its process host broke the protocol (${(e as Error).message})`),
    );
    // Its OS process gone, the host is, whatever still holds the other end of its stream.
    const exited = child.status.then(() => this.end("its process host ended"));
    this.done = Promise.all([reading, exited]).then(() => {});
    this.control({ t: "config", heapMb });
  }

  get pid(): number {
    return this.child.pid;
  }

  /** How many process threads it runs now. */
  get size(): number {
    return this.threads.size;
  }

  /** Whether its OS process still runs (or starts): false once it was ended. */
  get alive(): boolean {
    return !this.gone;
  }

  start(id: ProcessId, thread: number, onEnd: ThreadEnded): ProcessThread {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    const port = new PipePort((msgs) => {
      let parts: Uint8Array[];
      try {
        parts = encodeToProcess(msgs);
      } catch (e) {
        // Something of its own the kernel cannot encode: that process ends, not the node (found by a review).
        return this.stop(thread)?.onEnd(`the kernel could not encode a batch for it (${(e as Error)?.message})`);
      }
      this.write(stampParts(parts, thread));
    });
    this.threads.set(thread, { id, port, onEnd });
    this.control({ t: "start", thread });
    return {
      port,
      terminate: () => void this.stop(thread),
    };
  }

  /** Stops one thread, its host going on; returns what it ran, if it still ran. */
  private stop(thread: number): HostedThread | undefined {
    const t = this.threads.get(thread);
    if (!t) return;
    this.threads.delete(thread);
    this.killed.set(thread, t.id);
    if (this.killed.size > KILLED_KEPT) this.killed.delete(this.killed.keys().next().value!);
    t.port.onmessage = null;
    this.control({ t: "kill", thread });
    this.idleCheck();
    return t;
  }

  private control(m: ToHost) {
    this.write(frame(CONTROL, serialize(m)));
  }

  private write(f: Uint8Array | Uint8Array[]) {
    if (this.gone) return;
    if (this.out.length === 0) queueMicrotask(() => this.flush());
    if (Array.isArray(f)) { for (const p of f) this.out.push(p); }
    else this.out.push(f);
  }

  /**
   * One write at a time: frames queued while one is under way go together in
   * the next, so a busy node makes fewer, larger writes (each wakes the host).
   * Small parts are joined into one write; large ones go as they are, not copied again.
   */
  private flush() {
    const channel = this.channel;
    if (this.writing || this.gone || this.out.length === 0 || !channel) return;
    const parts = this.out;
    this.out = [];
    this.writing = true;
    let last = Promise.resolve();
    let small: Uint8Array[] = [], smallBytes = 0;
    // A write that fails leaves the host's stream in an unknown state: the host ends (its processes hear why).
    const failed = (e: unknown) => this.end(`the node could not write to its process host (${(e as Error).message})`);
    const writeSmall = () => {
      if (small.length) last = channel.write(joined(small)).catch(failed);
      small = [];
      smallBytes = 0;
    };
    for (const p of parts) {
      // Written as they are, parts must still hold their bytes (sole_blobs.ts releases nothing given to a process).
      if ((p.buffer as ArrayBuffer).detached) return this.end("the node released bytes it had queued for its host");
      if (p.length < WRITE_ALONE) {
        if (smallBytes + p.length > JOIN_BYTES) writeSmall();
        small.push(p);
        smallBytes += p.length;
        continue;
      }
      writeSmall();
      last = channel.write(p).catch(failed);
    }
    writeSmall();
    last.then(() => {
      this.writing = false;
      this.flush();
    }, () => {});
  }

  private receive(thread: number, payload: Uint8Array) {
    if (this.gone) return;
    if (thread !== CONTROL) {
      const t = this.threads.get(thread);
      if (!t) return;
      let msgs: FromProcess[];
      try {
        msgs = decodeFromProcess(payload);
      } catch (e) {
        if (!(e instanceof MalformedBatch)) throw e;
        // The host cut this frame by its own header, so the stream is in step: the batch is its thread's doing (a
        // process can make the bootstrap write any bytes), and that process ends alone (found by a review: ending
        // the host instead let a package take its co-tenants down again and again, blamed on nobody).
        return this.stop(thread)?.onEnd(`it sent a malformed batch (${e.message})`);
      }
      try {
        t.port.onmessage?.({ data: msgs } as MessageEvent);
      } catch (e) {
        // Its batch, its process: the host and its co-tenants go on.
        this.stop(thread)?.onEnd(`the kernel could not take its batch (${(e as Error)?.message})`);
      }
      return;
    }
    let m: unknown;
    try {
      m = deserialize(payload);
    } catch {
      return this.end("its process host sent bytes that are not a message");
    }
    const c = checkControl(m);
    if (!c) return this.end("its process host sent a malformed report");
    if (c.t === "ready") return this.isReady();
    const t = this.threads.get(c.thread);
    if (c.t === "ended") {
      if (!t) return;
      this.threads.delete(c.thread);
      t.onEnd(c.error);
      this.idleCheck();
      return;
    }
    // A stuck thread keeps its core or its memory until its OS process ends. One the kernel stopped is named too:
    // its code ran on after it was told to stop.
    const stuck = t?.id ?? this.killed.get(c.thread) ?? null;
    if (t) {
      this.threads.delete(c.thread);
      t.onEnd(`its thread is stuck: ${c.why}`);
    }
    this.end(`${stuck ?? "a process"} was stuck (${c.why})`, stuck);
  }

  private idleCheck() {
    if (this.threads.size || this.gone || this.idle !== null) return;
    this.idle = setTimeout(() => this.end(IDLE), IDLE_MS);
    Deno.unrefTimer(this.idle as unknown as number);
  }

  /**
   * Ends the host's OS process; every process it still ran has ended: with `why`, or, when `stuck` (a process of
   * its) was the reason, as taken down with it.
   */
  end(why: string, stuck: ProcessId | null = null) {
    if (this.gone) return;
    this.gone = true;
    this.isReady();
    if (this.idle !== null) clearTimeout(this.idle);
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    this.channel?.close();
    const lost = [...this.threads.values()];
    this.threads.clear();
    this.onGone(this, { why, stuck, taken: lost.map((t) => t.id) });
    const taken = `its process host was ended because ${stuck} was stuck in the same host`;
    for (const t of lost) stuck ? t.onEnd(taken, true) : t.onEnd(why);
  }
}

/** A report from a host, checked field by field: the host runs untrusted code. */
export function checkControl(m: unknown): FromHost | null {
  const r = m as Record<string, unknown> | null;
  if (typeof r !== "object" || r === null) return null;
  if (r.t === "ready") return { t: "ready" };
  if (!Number.isSafeInteger(r.thread) || (r.thread as number) <= 0) return null;
  const thread = r.thread as number;
  if (r.t === "ended" && (r.error === null || typeof r.error === "string")) {
    return { t: "ended", thread, error: r.error === null ? null : (r.error as string).slice(0, MAX_ERROR_CHARS) };
  }
  if (r.t === "stuck" && typeof r.why === "string") return { t: "stuck", thread, why: r.why.slice(0, MAX_ERROR_CHARS) };
  return null;
}
