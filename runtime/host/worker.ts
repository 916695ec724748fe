/**
 * The first code that runs in a process's thread: a node:worker_threads
 * Worker started by the sandbox factory (factory.ts), with no permissions and
 * a heap limit, holding a MessagePort to the kernel. It waits for `init`; it takes every host API away (lockdown.ts), compiles the process's
 * bundled code, and calls its `init(our)`. Threads sit here warm, so a spawn
 * costs a message, not a thread start-up.
 */
import { compileFunction } from "node:vm";
import { workerData } from "node:worker_threads";
import { type FromProcess, HOST_KEY, type HostPort } from "./protocol.ts";
import { type Batch, decodeToProcess, encodeFromProcess } from "./wire.ts";
import { lockdown } from "./lockdown.ts";
import { LimitReached, LIMITS } from "../limits.ts";

// Kept before lockdown takes the globals away.
const denoInspect = Deno.inspect;
/** Processes get this wrapper, never Deno's own function object. */
const inspect = (v: unknown): string => denoInspect(v);
const later = setTimeout;
const microtask = queueMicrotask;

/** A batch this long goes at once, so the kernel starts on it while we go on. */
const BATCH_MAX = 256;

let kernel: MessagePort | null = null;
let outbox: FromProcess[] = [];
let flushing = false;
let port: HostPort | null = null;
let ended = false;
/** Messages taken off the port since the kernel last heard. */
let took = 0;
const TOOK_ALONE = 1024;

/** Sizes are checked here, where the process sends, so a 1 GiB blob is refused before it is copied anywhere. */
function checkSize(m: FromProcess) {
  if (m.t === "set_state" && (m.bytes?.length ?? 0) > LIMITS.blobBytes) {
    throw new LimitReached(`process state may be at most ${LIMITS.blobBytes} bytes: keep more in a drive or database`);
  }
  if (m.t !== "send") return;
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
}

function post(m: FromProcess) {
  if (ended) return;
  checkSize(m);
  outbox.push(m);
  if (outbox.length >= BATCH_MAX) {
    kernel!.postMessage(encodeFromProcess(outbox));
    outbox = [];
    return;
  }
  if (!flushing) {
    flushing = true;
    // With more messages waiting, the process will answer them in this turn:
    // send one batch after all of them (a macrotask), not one post per answer.
    if (port && port.backlog() > 0) later(flush, 0);
    else microtask(flush);
  }
}

function flush() {
  flushing = false;
  const batch = outbox;
  outbox = [];
  if (took) {
    batch.push({ t: "took", n: took });
    took = 0;
  }
  if (batch.length) kernel?.postMessage(encodeFromProcess(batch));
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

function onBatch(e: MessageEvent<Batch>) {
  // The count travels with whatever the process sends next; a process that only reads
  // sends it alone every TOOK_ALONE messages, so the kernel's count is never far behind.
  took += e.data.rows.length;
  if (took >= TOOK_ALONE && !flushing) {
    flushing = true;
    microtask(flush);
  }
  for (const m of decodeToProcess(e.data)) {
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
addEventListener("error", (e: ErrorEvent) => {
  e.preventDefault();
  exit(false, describe(e.error ?? e.message));
});
addEventListener("unhandledrejection", (e: PromiseRejectionEvent) => {
  e.preventDefault();
  exit(false, describe(e.reason));
});

// The factory made this thread with the kernel's port; it waits here for `init`.
kernel = (workerData as { port: MessagePort }).port;
kernel.onmessage = onBatch;
post({ t: "ready" });
