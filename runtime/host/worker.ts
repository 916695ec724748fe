/**
 * The first code that runs in a process worker (created with
 * `permissions: "none"`). It waits for `init`, instantiates the process's
 * bundled code, and calls its `init(our)`. Workers sit here warm in a pool,
 * so a spawn costs a message, not a Worker start-up.
 *
 * With no permissions, the process cannot import files or URLs, read env,
 * open sockets or run programs: everything it does goes through the kernel.
 */
import { type FromProcess, HOST_KEY, type HostPort } from "./protocol.ts";
import { type Batch, decodeToProcess, encodeFromProcess } from "./wire.ts";

// deno-lint-ignore no-explicit-any
const scope = self as any;
let outbox: FromProcess[] = [];
let flushing = false;

/** A batch this long goes at once, so the kernel starts on it while we go on. */
const BATCH_MAX = 256;

function post(m: FromProcess) {
  outbox.push(m);
  if (outbox.length >= BATCH_MAX) {
    scope.postMessage(encodeFromProcess(outbox));
    outbox = [];
    return;
  }
  if (!flushing) {
    flushing = true;
    // With more messages waiting, the process will answer them in this turn:
    // send one batch after all of them (a macrotask), not one post per answer.
    if (port && port.backlog() > 0) setTimeout(flush, 0);
    else queueMicrotask(flush);
  }
}

function flush() {
  flushing = false;
  const batch = outbox;
  outbox = [];
  if (batch.length) scope.postMessage(encodeFromProcess(batch));
}

let port: HostPort | null = null;

scope.onmessage = (e: MessageEvent<Batch>) => {
  for (const m of decodeToProcess(e.data)) {
    if (m.t === "init") {
      port = { init: m, post, deliver: null, buffered: [], backlog: () => 0 };
      start(m.code);
    } else if (port?.deliver) port.deliver(m);
    else port?.buffered.push(m);
  }
};

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

function exit(ok: boolean, error: string | null) {
  post({ t: "exit", ok, error });
  flush();
}

async function start(code: string) {
  scope[HOST_KEY] = port;
  try {
    // Process bundles are CommonJS; `sourceURL` names the process in stack traces.
    const module = { exports: {} as Record<string, unknown> };
    new Function("module", "exports", `${code}\n//# sourceURL=${port!.init.our}`)(module, module.exports);
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
scope.addEventListener("error", (e: ErrorEvent) => {
  e.preventDefault();
  exit(false, describe(e.error ?? e.message));
});
scope.addEventListener("unhandledrejection", (e: PromiseRejectionEvent) => {
  e.preventDefault();
  exit(false, describe(e.reason));
});

post({ t: "ready" });
