/**
 * The first code that runs in a process's thread: a node:worker_threads
 * Worker started by the sandbox factory (factory.ts), with no permissions and
 * a heap limit. It waits for the MessagePort the kernel sent (over its
 * control port), then for `init`; it takes every host API away (lockdown.ts), compiles the process's
 * bundled code, and calls its `init(our)`. Threads sit here warm, so a spawn
 * costs a message, not a thread start-up.
 */
import { compileFunction } from "node:vm";
import { getHeapStatistics } from "node:v8";
import { workerData } from "node:worker_threads";
import { type FromProcess, HOST_KEY, type HostPort, type ToProcess } from "./protocol.ts";
import { type Batch, decodeToProcess, encodeFromProcess } from "./wire.ts";
import * as binary from "./binary.ts";
import { lockdown } from "./lockdown.ts";
import { LimitReached, LIMITS } from "../limits.ts";

// Kept before lockdown takes the globals away.
const denoInspect = Deno.inspect;
/** Processes get this wrapper, never Deno's own function object. */
const inspect = (v: unknown): string => denoInspect(v);
/**
 * The next turn of the event loop. Not setTimeout(0): node's timers wait at
 * least 1 ms (measured: 2.2 ms a turn when chained), which every batch of
 * answers waited on its way to the kernel.
 */
const nextTurn = setImmediate;
const microtask = queueMicrotask;

/** A batch this long (or this large) goes at once, so the kernel starts on it while we go on. */
const BATCH_MAX = 256;
const BATCH_BYTES = 32 * 2 ** 20;

let kernel: MessagePort | null = null;
let outbox: FromProcess[] = [];
let flushing = false;
let outboxBytes = 0;
/** Batches travel as binary frames (binary.ts): a process host passes them to its pipe unread. */
let asBytes = false;
let port: HostPort | null = null;
let ended = false;
/** Messages taken off the port since the kernel last heard. */
let took = 0;
const TOOK_ALONE = 1024;

/**
 * Sizes are checked here, where the process sends, so a 1 GiB blob is refused before it is copied anywhere.
 * Returns the message's bytes.
 */
function checkSize(m: FromProcess): number {
  if (m.t === "set_state" && (m.bytes?.length ?? 0) > LIMITS.blobBytes) {
    throw new LimitReached(`process state may be at most ${LIMITS.blobBytes} bytes: keep more in a drive or database`);
  }
  if (m.t === "set_state") return m.bytes?.length ?? 0;
  if (m.t !== "send") return 0;
  const body = ("Request" in m.message ? m.message.Request : m.message.Response[0]).body;
  if (body?.length > LIMITS.bodyBytes) {
    throw new LimitReached(
      `a message body may be at most ${LIMITS.bodyBytes} bytes (this one is ${body.length}): put bulk data in the blob`,
    );
  }
  const blob = m.blob?.bytes?.length ?? 0;
  if (blob > LIMITS.blobBytes) {
    throw new LimitReached(`a blob may be at most ${LIMITS.blobBytes} bytes (this one is ${blob}): send it in chunks`);
  }
  return body.length + blob;
}

function sendBatch(batch: FromProcess[]) {
  // What was taken travels with every batch: the kernel's count of unread messages falls as soon as it can.
  if (took) {
    batch.push({ t: "took", n: took });
    took = 0;
  }
  if (!asBytes) return kernel!.postMessage(encodeFromProcess(batch));
  const frame = binary.encodeFromProcess(batch);
  kernel!.postMessage(frame, [frame.buffer as ArrayBuffer]);
}

function post(m: FromProcess) {
  if (ended) return;
  outboxBytes += checkSize(m);
  outbox.push(m);
  if (outbox.length >= BATCH_MAX || outboxBytes >= BATCH_BYTES) {
    sendBatch(outbox);
    outbox = [];
    outboxBytes = 0;
    return;
  }
  if (!flushing) {
    flushing = true;
    // With more messages waiting, the process will answer them in this turn:
    // send one batch after all of them (a macrotask), not one post per answer.
    if (port && port.backlog() > 0) nextTurn(flush);
    else microtask(flush);
  }
}

function flush() {
  flushing = false;
  const batch = outbox;
  outbox = [];
  outboxBytes = 0;
  if ((batch.length || took) && kernel) sendBatch(batch);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

function exit(ok: boolean, error: string | null) {
  post({ t: "exit", ok, error });
  flush();
  ended = true;
}

function onBatch(e: MessageEvent<Batch | Uint8Array>) {
  const msgs: ToProcess[] = asBytes ? binary.decodeToProcess(e.data as Uint8Array) : decodeToProcess(e.data as Batch);
  // The count travels with whatever the process sends next; a process that only reads
  // sends it alone every TOOK_ALONE messages, so the kernel's count is never far behind.
  took += msgs.length;
  if (took >= TOOK_ALONE && !flushing) {
    flushing = true;
    microtask(flush);
  }
  for (const m of msgs) {
    if (m.t === "init") {
      port = { init: m, post, deliver: null, buffered: [], backlog: () => 0, inspect };
      start(m.code);
    } else if (port?.deliver) port.deliver(m);
    else port?.buffered.push(m);
  }
}

async function start(code: string) {
  try {
    // Process bundles are CommonJS; the filename names the process in stack traces.
    const instantiate = compileFunction(code, ["module", "exports"], { filename: port!.init.our });
    lockdown((verbosity, text) => post({ t: "print", verbosity, text }), inspect);
    listen();
    // A process that ends its own thread has exited, with nothing left behind.
    Object.defineProperty(globalThis, "close", { value: () => exit(true, null) });
    (globalThis as Record<symbol, unknown>)[HOST_KEY] = port;
    const module = { exports: {} as Record<string, unknown> };
    instantiate(module, module.exports);
    const init = module.exports.default ?? module.exports.init;
    if (typeof init !== "function") {
      throw new TypeError("the process module must export default (or `init`) a function init(our)");
    }
    await init(port!.init.our);
    exit(true, null);
  } catch (err) {
    exit(false, describe(err));
  }
}

// An error thrown outside init's promise chain (a timer callback, say) is a crash too.
function onError(e: ErrorEvent) {
  e.preventDefault();
  exit(false, describe(e.error ?? e.message));
}
function onRejection(e: PromiseRejectionEvent) {
  e.preventDefault();
  exit(false, describe(e.reason));
}

// Kept before lockdown: process code never sees the thread's control port.
const toPool = (workerData as { control: MessagePort }).control;
/**
 * V8 raises a thread's heap limit only to let it end when it reached it. A
 * heap exhausted in synchronous code does not always end the thread (Deno
 * 2.9.6 stops the code and leaves the thread turning its event loop with
 * nothing in it), so each ping says whether that happened.
 */
const heapLimit = getHeapStatistics().heap_size_limit;

// The pool hands over the kernel's port once, when a process starts here, and
// pings now and then: an answer shows this thread still turns its event loop.
function onPoolMessage(e: MessageEvent) {
  const data = (e as MessageEvent<{ t?: string; port?: MessagePort; bytes?: boolean }>).data;
  if (data?.t === "ping") {
    return toPool?.postMessage({ t: "pong", exhausted: getHeapStatistics().heap_size_limit > heapLimit });
  }
  const handed = data?.port;
  if (kernel || typeof handed?.postMessage !== "function") return;
  kernel = handed;
  asBytes = data.bytes === true;
  kernel.onmessage = onBatch;
  // The pool's clock for a silent thread starts here: booting is not being stuck.
  toPool?.postMessage({ t: "pong", exhausted: false });
  post({ t: "ready" });
}

/**
 * Deno keeps the global's listeners under a symbol on the global, which
 * lockdown removes with every other symbol there: so they are added again
 * after it (measured: listeners added before lockdown hear nothing after).
 */
function listen() {
  addEventListener("error", onError);
  addEventListener("unhandledrejection", onRejection);
}
listen();
toPool.onmessage = onPoolMessage;
