/**
 * The kernel's side of one process host (runtime/host/host.ts): a child
 * `deno run` that runs one package's process threads. Each thread gets a
 * port that looks like a MessagePort to Running, relayed over the host's
 * stdin and stdout as frames (runtime/host/pipe.ts) of binary batches
 * (runtime/host/binary.ts).
 *
 * The host runs untrusted code, so everything it sends is untrusted input:
 * frames are capped, control messages checked field by field, and batches go
 * through the kernel's usual validation. A host that breaks the protocol, has
 * a stuck thread, or dies is ended (SIGKILL), and every process it ran has
 * ended: the kernel applies each one's OnExit.
 */
import { deserialize, serialize } from "node:v8";
import { CONTROL, frame, FrameReader, type FromHost, joined, stamp, type ToHost } from "../host/pipe.ts";
import { decodeFromProcess, encodeToProcess, MalformedBatch } from "../host/binary.ts";
import type { FromProcess, ToProcess } from "../host/protocol.ts";
import { LIMITS } from "../limits.ts";
import type { ProcessId } from "../types.ts";
import { spawnDeno } from "./module_worker.ts";
import type { ProcessThread, ThreadPort } from "./sandbox.ts";

const ENTRY = new URL("../host/host.ts", import.meta.url);
/**
 * A batch from the bootstrap goes at 32 MiB, plus the one message that took
 * it past (at most a blob and a body); more is a broken or lying host.
 */
const MAX_FRAME = 48 * 2 ** 20 + LIMITS.blobBytes + LIMITS.bodyBytes;
const MAX_ERROR_CHARS = 16_384;
/** Frames queued for a host up to this many bytes in all are joined into one write. */
const JOIN_BYTES = 256 * 1024;
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

interface HostedThread {
  id: ProcessId;
  port: PipePort;
  onEnd(error: string | null): void;
}

export class ProcessHost {
  private child: Deno.ChildProcess;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private threads = new Map<number, HostedThread>();
  private out: Uint8Array[] = [];
  private writing = false;
  private idle: ReturnType<typeof setTimeout> | null = null;
  private gone = false;
  /** Resolves once the host's OS process has ended and its pipes are closed. */
  readonly done: Promise<void>;
  /** Resolves once the host has started (or ended). */
  readonly ready: Promise<void>;
  private isReady!: () => void;

  /** The package it runs; a spare host, started ahead so a package's first process need not wait, has none yet. */
  pkg: string | null = null;

  constructor(
    heapMb: number,
    bootstrapFiles: string[],
    private onGone: (host: ProcessHost, why: string) => void,
  ) {
    this.ready = new Promise((r) => this.isReady = r);
    const child = this.child = spawnDeno(ENTRY, { read: bootstrapFiles, write: [] }, [
      "--disallow-code-generation-from-strings",
      // A belt on top of each thread's own heap limit.
      `--max-old-space-size=${heapMb}`,
    ]);
    this.writer = this.child.stdin.getWriter();
    const reader = new FrameReader(MAX_FRAME, (thread, payload) => this.receive(thread, payload));
    const reading = (async () => {
      for await (const chunk of child.stdout) reader.push(chunk);
    })().then(
      () => this.end("its process host ended"),
      (e) => this.end(`its process host broke the protocol (${(e as Error).message})`),
    );
    this.done = Promise.all([reading, child.status]).then(() => {});
    this.control({ t: "config", heapMb });
  }

  get pid(): number {
    return this.child.pid;
  }

  get size(): number {
    return this.threads.size;
  }

  start(id: ProcessId, thread: number, onEnd: (error: string | null) => void): ProcessThread {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    const port = new PipePort((msgs) => this.write(stamp(encodeToProcess(msgs), thread)));
    this.threads.set(thread, { id, port, onEnd });
    this.control({ t: "start", thread });
    return {
      port,
      terminate: () => {
        if (!this.threads.delete(thread)) return;
        port.onmessage = null;
        this.control({ t: "kill", thread });
        this.idleCheck();
      },
    };
  }

  private control(m: ToHost) {
    this.write(frame(CONTROL, serialize(m)));
  }

  private write(f: Uint8Array) {
    if (this.gone) return;
    if (this.out.length === 0) queueMicrotask(() => this.flush());
    this.out.push(f);
  }

  /**
   * One write at a time: frames queued while one is under way go together in
   * the next, so a busy node makes fewer, larger writes (each wakes the host).
   */
  private flush() {
    if (this.writing || this.gone || this.out.length === 0) return;
    const frames = this.out;
    this.out = [];
    this.writing = true;
    let size = 0;
    for (const f of frames) size += f.length;
    // Small frames are joined into one write; large ones go as they are, not copied again.
    let last = Promise.resolve();
    if (size <= JOIN_BYTES) last = this.writer.write(joined(frames));
    else for (const f of frames) last = this.writer.write(f).catch(() => {});
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
        return this.end(`its process host sent a malformed batch (${e.message})`);
      }
      t.port.onmessage?.({ data: msgs } as MessageEvent);
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
    // A stuck thread keeps its core or its memory until its OS process ends.
    if (t) {
      this.threads.delete(c.thread);
      t.onEnd(`its thread is stuck: ${c.why}`);
    }
    this.end(`a process of package ${this.pkg} was stuck (${c.why}), so its process host was ended`);
  }

  private idleCheck() {
    if (this.threads.size || this.gone || this.idle !== null) return;
    this.idle = setTimeout(() => this.end(IDLE), IDLE_MS);
    Deno.unrefTimer(this.idle as unknown as number);
  }

  /** Ends the host's OS process; every process it still ran has ended. */
  end(why: string) {
    if (this.gone) return;
    this.gone = true;
    this.isReady();
    if (this.idle !== null) clearTimeout(this.idle);
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    this.writer.close().catch(() => {});
    const lost = [...this.threads.values()];
    this.threads.clear();
    this.onGone(this, why);
    for (const t of lost) t.onEnd(why);
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
