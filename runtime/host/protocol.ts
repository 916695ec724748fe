/**
 * What travels between the kernel and a process worker. This is the Deno
 * equivalent of the WIT interface a Wasm process imports: every system call
 * is a message, and nothing else crosses the sandbox.
 *
 * Messages are batched: each postMessage carries an array, so a busy pipeline
 * pays the cost of a post once per turn of the event loop, not per message.
 */
import type {
  Address,
  Capability,
  KernelMessage,
  LazyLoadBlob,
  Message,
  MessageId,
  OnExit,
  ProcessId,
  SendError,
} from "../types.ts";
import type { FromHost } from "./pipe.ts";

/** Kernel → worker. */
export type ToProcess =
  | {
    t: "init";
    our: Address;
    code: string;
    state: Uint8Array | null;
    capabilities: Capability[];
  }
  /**
   * `withheld`: the message's blob stayed in the kernel (the process asked for
   * that); km carries no blob, and this says what it is.
   */
  | { t: "msg"; km: KernelMessage; context: Uint8Array | null; withheld?: WithheldBlob | null }
  | { t: "err"; id: MessageId; error: SendError; context: Uint8Array | null }
  | { t: "reply"; call: number; ok: boolean; value: unknown };

/** Worker → kernel. */
export type FromProcess =
  | { t: "ready" }
  | {
    t: "send";
    id: MessageId;
    target: Address;
    message: Message;
    blob: LazyLoadBlob | null;
    /** The id of the message this one answers or inherits from. */
    prompt: MessageId | null;
    /** With inherit and no blob: the id of the received message whose blob to reuse. */
    blobFrom: MessageId | null;
    /** Returned with the response (or the SendError) to this request. */
    context?: Uint8Array | null;
    /** A request whose response's blob is to stay in the kernel (delivered withheld). */
    keepBlob?: boolean;
    /** `blobFrom` names a blob the kernel withholds for this process: it goes with this message, and is let go. */
    withheld?: boolean;
  }
  | { t: "print"; verbosity: number; text: string; plain?: boolean }
  /** With `call`: answered with a reply once the state is on disk. */
  | { t: "set_state"; bytes: Uint8Array | null; call?: number }
  | { t: "set_on_exit"; on_exit: OnExit }
  | { t: "call"; call: number; name: SysCall; args: unknown }
  | { t: "exit"; ok: boolean; error: string | null }
  /** The bootstrap took `n` messages off its port: the kernel's count of unread ones falls. */
  | { t: "took"; n: number }
  /** The kernel may let go of the blob it withholds for the message `id`. */
  | { t: "release_blob"; id: MessageId };

/** Calls that answer with a value. */
export type SysCall =
  | "spawn"
  | "our_capabilities"
  | "save_capabilities"
  | "drop_capabilities"
  /** The bytes of a blob the kernel withholds (it keeps them): `{id}` → LazyLoadBlob. */
  | "fetch_blob"
  /** Whether blobs of the requests this process receives stay in the kernel: `{on}`. */
  | "keep_incoming_blobs";

/** A blob the kernel keeps for a process instead of handing it over: what it is, not its bytes. */
export interface WithheldBlob {
  mime: string | null;
  size: number;
}

export interface SpawnArgs {
  name: string | null;
  wasm_path: string;
  on_exit: OnExit;
  request_capabilities: Capability[];
  grant_capabilities: ProcessId[];
  public: boolean;
}

/** The name under which the bootstrap hands its port to the process library. */
export const HOST_KEY = Symbol.for("hyperdeno.host");

/** What the bootstrap leaves on globalThis for the process library. */
export interface HostPort {
  init: Extract<ToProcess, { t: "init" }>;
  post(m: FromProcess): void;
  /** The library installs this; until then the bootstrap buffers. */
  deliver: ((m: ToProcess) => void) | null;
  buffered: ToProcess[];
  /** How many received messages the process has yet to take; the library sets it. */
  backlog: () => number;
  /** Deno.inspect, kept by the bootstrap: processes see no Deno namespace. */
  inspect: (v: unknown) => string;
}

/**
 * Kernel (or process host) → sandbox factory. `thread` numbers one start of
 * one process. A process host's factory passes batches as bytes and watches
 * for stuck threads (threads.ts).
 */
export type ToFactory =
  | { t: "config"; heapMb: number; bytes?: boolean; watch?: boolean; warm?: number }
  | { t: "start"; thread: number; port: MessagePort }
  | { t: "kill"; thread: number };

/** Sandbox factory → kernel (or process host): a process thread ended, however it ended, or is stuck. */
export type FromFactory = FromHost;
