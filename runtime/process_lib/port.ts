/**
 * The process side of the kernel channel: one inbox for awaitMessage, a
 * table of requests being awaited, and numbered system calls.
 */
import {
  type FromProcess,
  HOST_KEY,
  type HostPort,
  type SysCall,
  type ToProcess,
  type WithheldBlob,
} from "../host/protocol.ts";
import type { KernelMessage, LazyLoadBlob, MessageId, SendError as SendErrorShape } from "../types.ts";
import { Queue } from "../queue.ts";

type Incoming =
  | { kind: "msg"; km: KernelMessage; context: Uint8Array | null; withheld: WithheldBlob | null }
  | { kind: "err"; id: MessageId; error: SendErrorShape; context: Uint8Array | null };

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

function hostPort(): HostPort {
  const port = (globalThis as Record<symbol, HostPort | undefined>)[HOST_KEY];
  if (!port) throw new Error("process_lib runs only inside a hyperdeno process");
  return port;
}

const inbox = new Queue<Incoming>();
const inboxWaiters = new Queue<Waiter<Incoming>>();
const awaiting = new Map<MessageId, Waiter<Incoming>>();
const calls = new Map<number, Waiter<unknown>>();
let nextCall = 1;
/** Ids of the messages whose blobs the kernel keeps for this process (not yet passed on or released). */
export const kept = new Set<MessageId>();
let connected = false;

/** The message awaitMessage handed out last: what Response.send answers. */
export const current = {
  prompt: null as KernelMessage | null,
  /** The blob of the message received last, by awaitMessage or an awaited response. */
  blob: null as LazyLoadBlob | null,
  blobFrom: null as MessageId | null,
};

function deliver(m: ToProcess) {
  if (m.t === "reply") {
    const w = calls.get(m.call);
    calls.delete(m.call);
    if (m.ok) w?.resolve(m.value);
    else w?.reject(new Error(String(m.value)));
    return;
  }
  if (m.t === "init") return;
  if (m.t === "msg" && m.withheld) kept.add(m.km.id);
  const item: Incoming = m.t === "msg"
    ? { kind: "msg", km: m.km, context: m.context, withheld: m.withheld ?? null }
    : { kind: "err", id: m.id, error: m.error, context: m.context };
  const id = item.kind === "msg" ? item.km.id : item.id;
  const isResponse = item.kind === "err" || "Response" in item.km.message;
  const w = isResponse ? awaiting.get(id) : undefined;
  if (w) {
    awaiting.delete(id);
    w.resolve(item);
    return;
  }
  const next = inboxWaiters.shift();
  if (next) next.resolve(item);
  else inbox.push(item);
}

export function connect(): HostPort {
  const port = hostPort();
  if (!connected) {
    connected = true;
    port.deliver = deliver;
    port.backlog = () => inbox.length;
    for (const m of port.buffered.splice(0)) deliver(m);
  }
  return port;
}

/** How println shows a value that is not a string (the host's Deno.inspect). */
export function inspect(v: unknown): string {
  return connect().inspect?.(v) ?? String(v);
}

export function post(m: FromProcess) {
  connect().post(m);
}

export function nextIncoming(): Promise<Incoming> {
  connect();
  const item = inbox.shift();
  if (item) return Promise.resolve(item);
  return new Promise((resolve, reject) => inboxWaiters.push({ resolve, reject }));
}

/** Registers interest in the response to request `id` before it is sent. */
export function awaitResponse(id: MessageId): Promise<Incoming> {
  return new Promise((resolve, reject) => awaiting.set(id, { resolve, reject }));
}

export function call<T>(name: SysCall, args: unknown): Promise<T> {
  return postAwaitingReply((id) => ({ t: "call", call: id, name, args }));
}

/** Posts the system call `make(id)` builds and resolves with the kernel's reply to `id`. */
export function postAwaitingReply<T>(make: (id: number) => FromProcess): Promise<T> {
  const id = nextCall++;
  const p = new Promise<T>((resolve, reject) => calls.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  post(make(id));
  return p;
}

export type { Incoming };
