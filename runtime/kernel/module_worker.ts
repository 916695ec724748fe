/**
 * A runtime module's heavy half off the kernel's thread: blocking or CPU-heavy
 * work (SQLite is synchronous, unzipping is CPU) runs with only the
 * permissions it needs, so the kernel's thread keeps routing. Calls are
 * numbered and batched per turn of the event loop; the other side answers
 * each call, and may handle a batch as a whole (a group commit, say).
 *
 * Two carriers: a Web Worker (cheap, fast), or a child Deno process for work
 * that may have to be stopped. Worker.terminate() cannot stop a thread stuck in
 * native code (measured: a worker inside an endless sqlite3_step keeps a core
 * busy after terminate(), and keeps the process from exiting), while a child
 * process can always be killed. With a time limit, a carrier that answers
 * nothing for that long while calls wait is stopped, its calls fail with
 * WorkerTimeLimit, and the next call starts a fresh one. Errors travel as
 * data (WorkerError), never as text to match.
 */
import { deserialize, serialize } from "node:v8";
import { concat } from "../bytes.ts";

export interface WorkerCall {
  id: number;
  op: string;
  args: unknown[];
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WorkerError };

/**
 * Why a call failed, as data: a refusal the worker side meant (its value
 * reaches the caller as a WorkerRefusal, e.g. the book's "NoDb"), or a
 * failure with its reason (an engine's own error message).
 */
export type WorkerError = { Refused: unknown } | { Failed: string };

export interface ModuleWorkerOptions {
  /** Run in a child Deno process (when this node may start one) instead of a Web Worker. */
  process?: boolean;
  /** Stop the carrier when calls wait this long with no answer. */
  timeLimitMs?: number;
  /** Let the carrier go after this long with nothing to do; the next call starts it again. */
  idleMs?: number;
  /** The call every fresh carrier gets first (e.g. `["init", root]`). */
  init?: [string, ...unknown[]];
  /** Told when the time limit stopped a carrier. */
  onTimeLimit?: () => void;
}

/** The error message of calls failed by the time limit. */
export const TIME_LIMIT_ERROR = "interrupted";
/** The error message of every call refused after the time limit stopped a Web Worker (see WorkerStuck). */
export const STUCK_ERROR = "stuck";

/** Thrown on the worker side to refuse a call with `variant`; the caller gets a WorkerRefusal with it. */
export class WorkerRefusal extends Error {
  override name = "WorkerRefusal";
  constructor(readonly variant: unknown) {
    super(typeof variant === "string" ? variant : JSON.stringify(variant));
  }
}

/** A call failed because the time limit stopped its carrier. */
export class WorkerTimeLimit extends Error {
  override name = "WorkerTimeLimit";
  constructor() {
    super(TIME_LIMIT_ERROR);
  }
}

/**
 * A call refused after the time limit stopped a Web Worker: its thread may
 * still be running (terminate() cannot stop native code), so no new one is
 * started to pile up beside it.
 */
export class WorkerStuck extends Error {
  override name = "WorkerStuck";
  constructor() {
    super(STUCK_ERROR);
  }
}
/** How long a fresh carrier may take to answer its first call (loading code on a busy machine). */
const STARTUP_MS = 30_000;

interface Carrier {
  /** Whether stop() really ends it (a process) or may leave a thread running. */
  stoppable: boolean;
  send(batch: WorkerCall[]): void;
  /** Ends it now; `graceful` lets a child process close its files first (it is idle). */
  stop(graceful?: boolean): void;
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

export class ModuleWorker {
  private carrier: Carrier | null = null;
  private next = 1;
  private calls = new Map<number, Pending>();
  private outbox: WorkerCall[] = [];
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  private idle: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private stuck = false;
  /** Whether the carrier has answered anything yet: starting one is not held against the time limit. */
  private started = false;

  constructor(
    private entry: URL,
    private permissions: { read: string[]; write: string[] },
    private opts: ModuleWorkerOptions = {},
  ) {}

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    if (this.stopped) return Promise.reject(new Error("module stopped"));
    if (this.stuck) return Promise.reject(new WorkerStuck());
    if (!this.carrier) this.start();
    const id = this.next++;
    if (this.outbox.length === 0) queueMicrotask(() => this.flush());
    this.outbox.push({ id, op, args });
    this.armWatchdog();
    return new Promise<T>((resolve, reject) =>
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject })
    );
  }

  private start() {
    this.started = false;
    const onReplies = (replies: WorkerReply[]) => this.settle(replies);
    const onFailure = (why: string) => {
      this.stopCarrier();
      this.failAll(() => new Error(`module worker failed: ${why}`));
    };
    this.carrier = this.opts.process && canSpawnDeno()
      ? processCarrier(this.entry, this.permissions, onReplies, onFailure)
      : threadCarrier(this.entry, this.permissions, onReplies, onFailure);
    if (this.opts.init) {
      const [op, ...args] = this.opts.init;
      this.outbox.push({ id: 0, op, args });
      queueMicrotask(() => this.flush());
    }
  }

  private settle(replies: WorkerReply[]) {
    this.started = true;
    for (const r of replies) {
      const c = this.calls.get(r.id);
      if (!c) continue;
      this.calls.delete(r.id);
      if (r.ok) c.resolve(r.value);
      else c.reject("Refused" in r.error ? new WorkerRefusal(r.error.Refused) : new Error(r.error.Failed));
    }
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.armWatchdog();
  }

  /** Starts the time-limit clock when calls wait and it is not running, or the idle clock when none do. */
  private armWatchdog() {
    if (this.idle !== null) clearTimeout(this.idle);
    this.idle = null;
    const waiting = this.calls.size > 0 || this.outbox.length > 0;
    if (waiting && this.watchdog === null && this.opts.timeLimitMs) {
      const limit = this.started ? this.opts.timeLimitMs : Math.max(this.opts.timeLimitMs, STARTUP_MS);
      this.watchdog = setTimeout(() => {
        this.watchdog = null;
        this.opts.onTimeLimit?.();
        if (!this.carrier?.stoppable) this.stuck = true;
        this.stopCarrier();
        this.failAll(() => new WorkerTimeLimit());
      }, limit);
    } else if (!waiting && this.opts.idleMs && this.carrier) {
      this.idle = setTimeout(() => this.stopCarrier(true), this.opts.idleMs);
      Deno.unrefTimer(this.idle as unknown as number);
    }
  }

  private flush() {
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length && this.carrier) this.carrier.send(batch);
  }

  private failAll(error: () => Error) {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) c.reject(error());
  }

  private stopCarrier(graceful = false) {
    this.carrier?.stop(graceful);
    this.carrier = null;
    this.outbox = [];
    for (const t of [this.watchdog, this.idle]) if (t !== null) clearTimeout(t);
    this.watchdog = this.idle = null;
  }

  /**
   * Closes what the carrier holds (its `close` call), then stops it; nothing is
   * started to do so, and a carrier busy past `graceMs` is stopped as it is.
   */
  async close(graceMs = 2000) {
    if (this.carrier) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise((r) => timer = setTimeout(r, graceMs));
      await Promise.race([this.call("close").catch(() => {}), grace]);
      clearTimeout(timer);
    }
    this.terminate();
  }

  terminate() {
    this.stopped = true;
    this.stopCarrier();
    this.failAll(() => new Error("module stopped"));
  }
}

/** Whether this node can start `deno run` children: it runs from source and may run its own binary. */
export function canSpawnDeno(): boolean {
  try {
    const exe = Deno.execPath();
    if (!/^deno(\.exe)?$/.test(exe.split(/[\\/]/).pop()!)) return false;
    return Deno.permissions.querySync({ name: "run", command: exe }).state === "granted";
  } catch {
    return false;
  }
}

function threadCarrier(
  entry: URL,
  permissions: Deno.PermissionOptionsObject,
  onReplies: (r: WorkerReply[]) => void,
  onFailure: (why: string) => void,
): Carrier {
  const worker = new Worker(entry, { type: "module", deno: { permissions } } as WorkerOptions);
  worker.onmessage = (e: MessageEvent<WorkerReply[]>) => onReplies(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    onFailure(e.message);
  };
  return { stoppable: false, send: (batch) => worker.postMessage(batch), stop: () => worker.terminate() };
}

/**
 * HYPERDENO_INSPECT_CHILDREN=PORT (for profiling, e.g. `FT_BENCH_PROFILE`): each child
 * `deno run` listens for an inspector on 127.0.0.1, at PORT, PORT+1, ... in the order they start.
 */
let inspectNext = 0;
function inspectFlag(): string[] {
  let base: number;
  try {
    base = Number(Deno.env.get("HYPERDENO_INSPECT_CHILDREN"));
  } catch {
    return [];
  }
  return Number.isInteger(base) && base > 0 ? [`--inspect=127.0.0.1:${base + inspectNext++}`] : [];
}

/**
 * A child `deno run` of `entry` with only these permissions (and V8 flags, and arguments), on stdin and stdout
 * (`pipes`; else it has neither, and speaks through `args`' socket).
 */
export function spawnDeno(
  entry: URL,
  permissions: { read: string[]; write: string[]; net?: string[] },
  v8Flags: string[] = [],
  args: string[] = [],
  pipes = true,
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--no-config",
      ...(v8Flags.length ? [`--v8-flags=${v8Flags.join(",")}`] : []),
      ...inspectFlag(),
      ...(["read", "write", "net"] as const).filter((k) => permissions[k]?.length)
        .map((k) => `--allow-${k}=${permissions[k]!.join(",")}`),
      entry.pathname,
      ...args,
    ],
    stdin: pipes ? "piped" : "null",
    stdout: pipes ? "piped" : "null",
    stderr: "inherit",
  }).spawn();
}

function processCarrier(
  entry: URL,
  permissions: { read: string[]; write: string[] },
  onReplies: (r: WorkerReply[]) => void,
  onFailure: (why: string) => void,
): Carrier {
  const child = spawnDeno(entry, permissions);
  let stopped = false;
  const writer = child.stdin.getWriter();
  (async () => {
    for await (const frame of readFrames(child.stdout)) onReplies(deserialize(frame) as WorkerReply[]);
  })().catch(() => {}).finally(() => {
    if (!stopped) onFailure("its process ended");
  });
  return {
    stoppable: true,
    send: (batch) => writer.write(frameOf(serialize(batch))).catch(() => {}),
    stop: (graceful) => {
      stopped = true;
      // Closing stdin ends an idle child after it closes its databases; a busy one is killed.
      if (!graceful) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      writer.close().catch(() => {});
    },
  };
}

function frameOf(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

/** Length-prefixed frames (4-byte big-endian length) from a byte stream. */
async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(0);
  for await (const chunk of stream) {
    buf = concat(buf, chunk);
    while (buf.length >= 4) {
      const len = new DataView(buf.buffer, buf.byteOffset).getUint32(0);
      if (buf.length < 4 + len) break;
      yield buf.slice(4, 4 + len);
      buf = buf.subarray(4 + len);
    }
  }
}

export type Handlers = Record<string, (...args: never[]) => unknown>;

/** A child answering a batch call by call sends what it has at least this often. */
const REPLY_EVERY_MS = 5;

/**
 * The worker side: runs each batch through `batch` when given (it returns
 * one reply per call, in order), else call by call through `handlers`. In a
 * child process it reads frames from stdin and answers the calls of a batch
 * together, but at least every REPLY_EVERY_MS (so the parent's time limit
 * measures one call, not a batch);
 * when stdin closes it closes what it holds and ends.
 */
export function serveCalls(handlers: Handlers, batch?: (calls: WorkerCall[]) => WorkerReply[]) {
  // deno-lint-ignore no-explicit-any
  const scope = self as any;
  if (typeof scope.WorkerGlobalScope !== "undefined" && scope instanceof scope.WorkerGlobalScope) {
    scope.onmessage = (e: MessageEvent<WorkerCall[]>) => {
      scope.postMessage(batch ? batch(e.data) : e.data.map((c) => runCall(handlers, c)));
    };
    return;
  }
  const reply = (replies: WorkerReply[]) => {
    const frame = frameOf(serialize(replies));
    for (let off = 0; off < frame.length;) off += Deno.stdout.writeSync(frame.subarray(off));
  };
  (async () => {
    for await (const frame of readFrames(Deno.stdin.readable)) {
      const calls = deserialize(frame) as WorkerCall[];
      if (batch) {
        reply(batch(calls));
        continue;
      }
      // Answers go together, but at least every REPLY_EVERY_MS: one write per answer cost more
      // than a small SQL insert, and the parent's time limit still hears of progress in time.
      let out: WorkerReply[] = [], since = performance.now();
      for (const c of calls) {
        out.push(runCall(handlers, c));
        if (performance.now() - since >= REPLY_EVERY_MS) {
          reply(out);
          out = [];
          since = performance.now();
        }
      }
      if (out.length) reply(out);
    }
    runCall(handlers, { id: 0, op: "close", args: [] });
  })();
}

export function runCall(handlers: Handlers, { id, op, args }: WorkerCall): WorkerReply {
  try {
    const h = handlers[op];
    if (!h) throw new Error(`unknown operation ${op}`);
    return { id, ok: true, value: (h as (...a: unknown[]) => unknown)(...args) };
  } catch (err) {
    if (err instanceof WorkerRefusal) return { id, ok: false, error: { Refused: err.variant } };
    return { id, ok: false, error: { Failed: (err as Error).message ?? String(err) } };
  }
}
