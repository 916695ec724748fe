/**
 * The library a hyperdeno process imports: the book's process_lib in
 * TypeScript.
 *
 * ```ts
 * import { awaitMessage, println, Response } from "@hyperdeno/process_lib";
 * export default async function init(our: string) {
 *   while (true) {
 *     const msg = await awaitMessage();
 *     if (msg.isRequest()) Response.new().body("pong").send();
 *   }
 * }
 * ```
 */
import type { SpawnArgs } from "../host/protocol.ts";
import {
  type Address,
  type Capability,
  formatAddress,
  type LazyLoadBlob,
  MESSAGING,
  nodeOf,
  type OnExit,
  type ProcessId,
} from "../types.ts";
import { BlobInKernel, Message, ProcessAddress, SendError } from "./message.ts";
import { call, connect, current, inspect, kept, nextIncoming, post, postAwaitingReply } from "./port.ts";

import { Response } from "./builders.ts";
export { Request, Response } from "./builders.ts";
export { BlobInKernel, Message, ProcessAddress, SendError };
export type { Address, Capability, LazyLoadBlob, OnExit, ProcessId };
export * as timer from "./timer.ts";
export * as net from "./net.ts";
export * as httpClient from "./http_client.ts";
export { ourModule } from "./modules.ts";
export {
  HTTP_CLIENT,
  HTTP_SERVER,
  KERNEL,
  KV,
  moduleAddress,
  NET,
  SQLITE,
  STATE,
  TERMINAL,
  TERMINAL_APP,
  TIMER,
  VFS,
} from "../api/processes.ts";
export type { ProcessStatus } from "../api/kernel.ts";

/** This process's own address. */
export function our(): ProcessAddress {
  return ProcessAddress.parse(connect().init.our);
}

/**
 * The next message for this process. Resolves with a Request or Response;
 * rejects with a SendError when something this process sent failed.
 */
export async function awaitMessage(): Promise<Message> {
  const item = await nextIncoming();
  if (item.kind === "err") throw new SendError(item.error, item.context);
  current.prompt = item.km;
  current.blob = item.km.lazy_load_blob;
  current.blobFrom = item.km.id;
  return new Message(item.km, item.context, item.withheld);
}

/** The blob of the message received last (as the book's get_blob). */
export function getBlob(): LazyLoadBlob | null {
  return current.blob;
}

// ---------------------------------------------------------------- blobs kept in the kernel

/**
 * Whether the blobs of requests this process receives from now on stay in the
 * kernel (as Request.keepBlobInKernel does for one response): for a process
 * that passes bulk data on without reading it, such as chunks it writes to a
 * file. Resolves once the kernel has it.
 */
export function keepIncomingBlobsInKernel(on = true): Promise<void> {
  return call("keep_incoming_blobs", { on });
}

/** A copy of the bytes of a blob the kernel keeps for `msg` (it keeps them too). */
export function fetchBlob(msg: Message): Promise<LazyLoadBlob> {
  if (!msg.withheld) {
    const b = msg.blob();
    if (!b) return Promise.reject(new Error(`message ${msg.id()} has no blob`));
    return Promise.resolve(b);
  }
  return call("fetch_blob", { id: msg.id() });
}

/** Lets the kernel drop the blob it keeps for `msg`, unsent. */
export function releaseBlob(msg: Message): void {
  if (!msg.withheld || !kept.delete(msg.id())) return;
  post({ t: "release_blob", id: msg.id() });
}

/** Prints to the node's terminal when its verbosity is at least `verbosity`. */
export function printToTerminal(verbosity: number, text: string): void {
  post({ t: "print", verbosity, text });
}

/** Prints to the node's terminal (verbosity 0), like the book's println!. */
export function println(...parts: unknown[]): void {
  printToTerminal(0, parts.map((p) => typeof p === "string" ? p : inspect(p)).join(" "));
}

// ---------------------------------------------------------------- state

let state: Uint8Array | null | undefined;

/** The bytes last saved by setState, from this run or an earlier one. */
export function getState(): Uint8Array | null {
  if (state === undefined) state = connect().init.state;
  return state;
}

/**
 * Saves bytes that survive restarts of the process and of the node. Resolves
 * once they are on disk (written and fsynced): await it before telling anyone
 * the state is saved.
 */
export function setState(bytes: Uint8Array): Promise<void> {
  state = bytes;
  return postAwaitingReply((call) => ({ t: "set_state", bytes, call }));
}

/** Removes the saved state; resolves once that is on disk. */
export function clearState(): Promise<void> {
  state = null;
  return postAwaitingReply((call) => ({ t: "set_state", bytes: null, call }));
}

export function setOnExit(onExit: OnExit): void {
  post({ t: "set_on_exit", on_exit: onExit });
}

// ---------------------------------------------------------------- capabilities

/** The capabilities this process holds now. */
export function ourCapabilities(): Promise<Capability[]> {
  return call("our_capabilities", null);
}

/** Keeps capabilities that arrived on a message, to use or pass on later. */
export function saveCapabilities(caps: Capability[]): Promise<void> {
  return call("save_capabilities", caps);
}

export function dropCapabilities(caps: Capability[]): Promise<void> {
  return call("drop_capabilities", caps);
}

/** A capability issued by this process: others can hold it, only we mint it. */
export function newCapability(params: unknown): Capability {
  return { issuer: connect().init.our, params: typeof params === "string" ? params : JSON.stringify(params) };
}

/** The capability to message `process` on this node. */
export function messagingCap(process: ProcessId): Capability {
  return { issuer: formatAddress(nodeOf(connect().init.our), process), params: MESSAGING };
}

// ---------------------------------------------------------------- spawn

/**
 * Starts a child process from a bundled file in this package's pkg drive,
 * e.g. `${our().packageId()}/pkg/child.js`. The child gets `requestCapabilities`
 * (only ones this process holds) and the processes in `grantCapabilities` may
 * message it. A null name picks a random number.
 */
export function spawn(
  name: string | null,
  wasmPath: string,
  onExit: OnExit,
  requestCapabilities: Capability[],
  grantCapabilities: ProcessId[],
  isPublic: boolean,
): Promise<ProcessId> {
  const args: SpawnArgs = {
    name,
    wasm_path: wasmPath,
    on_exit: onExit,
    request_capabilities: requestCapabilities,
    grant_capabilities: grantCapabilities,
    public: isPublic,
  };
  return call("spawn", args);
}

// ---------------------------------------------------------------- scripts

/**
 * The book's `script!`: waits for the terminal's request, calls `fn(our, args)`,
 * and answers with its return value, or prints it when no answer is awaited.
 */
export function script(fn: (our: ProcessAddress, args: string) => string | Promise<string>) {
  return async function init(_our: Address) {
    const me = our();
    // A script's arguments come from its own node (the terminal, or whoever started it
    // there); a request from another node is ignored, since scripts often hold root.
    let msg = await awaitMessage();
    while (!msg.isRequest() || msg.source.node !== me.node) msg = await awaitMessage();
    const out = await fn(me, msg.text());
    if (msg.expectsResponse() !== null) {
      Response.new().body(out).send();
    } else if (out) post({ t: "print", verbosity: 0, text: out, plain: true });
  };
}
export { splitArgs } from "./args.ts";
export * as vfs from "./vfs.ts";
export * as kv from "./kv.ts";
export * as sqlite from "./sqlite.ts";
export * from "./http.ts";

/**
 * Incoming requests, one at a time, for processes whose loop is "answer each
 * request": `for await (const req of requests()) { ... }`. Responses are
 * skipped; SendErrors go to `onError` (default: printed).
 */
export async function* requests(onError: (e: SendError) => void = (e) => println(e.message)): AsyncGenerator<Message> {
  while (true) {
    let msg: Message;
    try {
      msg = await awaitMessage();
    } catch (e) {
      if (e instanceof SendError) onError(e);
      else throw e;
      continue;
    }
    if (msg.isRequest()) yield msg;
  }
}
