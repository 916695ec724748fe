/**
 * What process code may touch: the JavaScript language and the web platform's
 * pure parts (encoding, crypto, streams, URLs, timers, events). Everything
 * that reaches the host is taken away before a process's code runs, because
 * worker permissions do not cover it all: with `permissions: "none"` a worker
 * could still `Deno.kill` the node, read the operator's stdin, learn the
 * node's paths (`Deno.cwd`, `Deno.execPath`, `location`), pass data between
 * packages over BroadcastChannel or the Cache API, or start workers of its
 * own. It is an allowlist, so a global a later Deno adds stays out until
 * someone decides it is safe.
 *
 * Nothing may turn strings into code either (closeCodeGeneration), and code
 * that calls `import()` is refused before it runs (runtime/kernel/code_check.ts),
 * so nothing can fetch back what is removed here through `node:process` or
 * `npm:`.
 */

const LANGUAGE = [
  "AggregateError",
  "Array",
  "ArrayBuffer",
  "AsyncDisposableStack",
  "Atomics",
  "BigInt",
  "BigInt64Array",
  "BigUint64Array",
  "Boolean",
  "DataView",
  "Date",
  "DisposableStack",
  "Error",
  "EvalError",
  "FinalizationRegistry",
  "Float16Array",
  "Float32Array",
  "Float64Array",
  "Function",
  "Infinity",
  "Int16Array",
  "Int32Array",
  "Int8Array",
  "Intl",
  "Iterator",
  "JSON",
  "Map",
  "Math",
  "NaN",
  "Number",
  "Object",
  "Promise",
  "Proxy",
  "RangeError",
  "ReferenceError",
  "Reflect",
  "RegExp",
  "Set",
  "SharedArrayBuffer",
  "String",
  "SuppressedError",
  "Symbol",
  "SyntaxError",
  "Temporal",
  "TypeError",
  "URIError",
  "Uint16Array",
  "Uint32Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "WeakMap",
  "WeakRef",
  "WeakSet",
  "WebAssembly",
  "decodeURI",
  "decodeURIComponent",
  "encodeURI",
  "encodeURIComponent",
  "escape",
  "eval",
  "globalThis",
  "isFinite",
  "isNaN",
  "parseFloat",
  "parseInt",
  "undefined",
  "unescape",
];

const WEB = [
  "AbortController",
  "AbortSignal",
  "Blob",
  "ByteLengthQueuingStrategy",
  "CompressionStream",
  "CountQueuingStrategy",
  "Crypto",
  "CryptoKey",
  "CustomEvent",
  "DOMException",
  "DecompressionStream",
  "ErrorEvent",
  "Event",
  "EventTarget",
  "File",
  "FormData",
  "Headers",
  "MessageEvent",
  "Performance",
  "PerformanceEntry",
  "PerformanceMark",
  "PerformanceMeasure",
  "ProgressEvent",
  "PromiseRejectionEvent",
  "ReadableByteStreamController",
  "ReadableStream",
  "ReadableStreamBYOBReader",
  "ReadableStreamBYOBRequest",
  "ReadableStreamDefaultController",
  "ReadableStreamDefaultReader",
  "Request",
  "Response",
  "SubtleCrypto",
  "TextDecoder",
  "TextDecoderStream",
  "TextEncoder",
  "TextEncoderStream",
  "TransformStream",
  "TransformStreamDefaultController",
  "URL",
  "URLPattern",
  "URLSearchParams",
  "WritableStream",
  "WritableStreamDefaultController",
  "WritableStreamDefaultWriter",
  "atob",
  "btoa",
  "clearInterval",
  "clearTimeout",
  "console",
  "crypto",
  "performance",
  "queueMicrotask",
  "reportError",
  "setInterval",
  "setTimeout",
  "structuredClone",
  // Event listener methods live on the global scope's prototype chain.
  "addEventListener",
  "removeEventListener",
  "dispatchEvent",
];

export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([...LANGUAGE, ...WEB]);

/** Console methods that print at verbosity 0; the rest print at 2 (debug). */
const LOUD = new Set(["log", "info", "warn", "error", "table", "dir", "assert", "trace"]);

/**
 * Removes every global outside the allowlist, on the global object and its
 * prototype chain, and replaces `console` with one that prints through the
 * kernel (which names the process on every line) instead of writing to the
 * node's stdout.
 */
export function lockdown(print: (verbosity: number, text: string) => void, inspect: (v: unknown) => string) {
  const format = (args: unknown[]) => args.map((a) => typeof a === "string" ? a : inspect(a)).join(" ");
  const console: Record<string, (...args: unknown[]) => void> = {};
  for (const name of Object.keys(globalThis.console)) {
    console[name] = name === "assert"
      ? (cond: unknown, ...args: unknown[]) => {
        if (!cond) print(0, `Assertion failed${args.length ? `: ${format(args)}` : ""}`);
      }
      : (...args: unknown[]) => print(LOUD.has(name) ? 0 : 2, format(args));
  }
  Object.defineProperty(globalThis, "console", { value: Object.freeze(console), configurable: false, writable: false });

  for (let o: object | null = globalThis; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Reflect.ownKeys(o)) {
      if (typeof key === "string" && ALLOWED_GLOBALS.has(key)) continue;
      if (typeof key === "symbol" && o !== globalThis) continue;
      // The global's brand as an EventTarget: without it Deno cannot dispatch
      // an unhandled rejection to the bootstrap's listener (Illegal invocation).
      if (typeof key === "symbol" && key.description === "[[webidl.brand]]") continue;
      if (key === "constructor") continue;
      try {
        delete (o as Record<PropertyKey, unknown>)[key];
      } catch { /* not configurable: checked below */ }
    }
  }
  // The node's --expose-gc (process-wide, for its heap pacer) gives every isolate a gc no one may delete: emptied here.
  if ("gc" in globalThis) Object.defineProperty(globalThis, "gc", { value: undefined, writable: false });
  for (const key of ["Deno", "process", "require", "fetch", "Worker", "close", "postMessage", "caches", "location"]) {
    if (key in globalThis) throw new Error(`sandbox: could not remove the global ${key}`);
  }
  if ((globalThis as { gc?: unknown }).gc !== undefined) throw new Error("sandbox: could not remove the global gc");
  closeCodeGeneration();
}

/**
 * `eval`, `new Function` and the constructors of async, generator and async
 * generator functions (reachable from any such function's `.constructor`)
 * are the ways JavaScript turns a string into code; each is replaced by one
 * that refuses, keeping its prototype so `instanceof Function` still works.
 * (V8's --disallow-code-generation-from-strings would do this for every
 * thread of the node, and it slowed the node's own blob paths by ~40%.)
 */
function closeCodeGeneration() {
  const kinds = [function () {}, async function () {}, function* () {}, async function* () {}];
  for (const sample of kinds) {
    const proto = Object.getPrototypeOf(sample);
    const refuse = function () {
      throw new EvalError("processes may not turn strings into code");
    };
    Object.defineProperty(refuse, "prototype", { value: proto, writable: false, configurable: false });
    Object.defineProperty(proto, "constructor", { value: refuse, writable: false, configurable: false });
  }
  for (const [name, value] of [["Function", Function.prototype.constructor], ["eval", evalRefused]] as const) {
    Object.defineProperty(globalThis, name, { value, writable: false, configurable: false, enumerable: false });
  }
  try {
    new (globalThis as unknown as { Function: FunctionConstructor }).Function("");
  } catch {
    return;
  }
  throw new Error("sandbox: code generation is still open");
}

function evalRefused(): never {
  throw new EvalError("processes may not turn strings into code");
}
