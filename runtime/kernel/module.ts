/**
 * How a runtime module plugs into the kernel. A module is a message handler
 * addressed as `<name>:distro:sys`; it never imports another module, it sends
 * messages through the kernel like everyone else.
 */
import type {
  Address,
  Capability,
  KernelMessage,
  LazyLoadBlob,
  Message,
  MessageId,
  ProcessId,
  SendError,
} from "../types.ts";

export interface RuntimeModule {
  readonly process: ProcessId;
  /** Whether any local process may message it without a capability. */
  readonly public: boolean;
  handle(km: KernelMessage, context: Uint8Array | null): void;
  /** A request this module sent came back as Offline or Timeout. */
  handleError?(id: MessageId, error: SendError, context: Uint8Array | null): void;
  /** A process stopped: let go of whatever the module holds for it. */
  processExited?(process: ProcessId): void;
  shutdown?(): void | Promise<void>;
}

/**
 * Who a printed line speaks for. The console escapes every line, prefixes
 * each line of a labelled text, and collapses floods per source and kind.
 */
export interface LineOrigin {
  /** The process or node the line comes from or is about; each has its own budget of lines. */
  source: string;
  /** Lines of one kind from one source are collapsed when they flood (default: identical text). */
  kind?: string;
  /** Printed before every line of the text (a process's println, another node's hello). */
  label?: string;
  /** The label in bold: another node speaking. */
  bold?: boolean;
  /** The terminal's own output, shown as it is (still escaped); other unlabelled texts indent their later lines. */
  plain?: boolean;
}

/** What the kernel offers modules: trusted sending and printing. */
export interface KernelHandle {
  readonly our: string;
  readonly home: string;
  /** Sends from `source` (a module) without capability checks. */
  send(source: ProcessId, msg: {
    id?: MessageId;
    target: Address;
    message: Message;
    blob?: LazyLoadBlob | null;
    rsvp?: Address | null;
    context?: Uint8Array | null;
  }): MessageId;
  /**
   * Sends a request from `source` (a module) and resolves with the response
   * message, or rejects with the SendError (Offline, Timeout) that came back
   * instead. The response never reaches the module's handle().
   */
  request(source: ProcessId, msg: {
    target: Address;
    body: Uint8Array;
    blob?: LazyLoadBlob | null;
    timeoutSeconds: number;
  }): Promise<KernelMessage>;
  /** Answers `request` from the module that received it. */
  respond(request: KernelMessage, body: Uint8Array, blob?: LazyLoadBlob | null): void;
  print(verbosity: number, text: string, origin?: LineOrigin): void;
  /** Whether `process` holds `cap` (or the kernel's root capability). */
  hasCap(process: ProcessId, cap: Capability): boolean;
  /** Grants capabilities this module issues. */
  grantCaps(process: ProcessId, caps: Capability[]): void;
  /** Changes whenever any capability is granted or dropped: caches of decisions key on it. */
  readonly capsVersion: number;
  /** Delivers a message that arrived from another node (its source node already authenticated). */
  deliverRemote(km: KernelMessage): void;
  /** Returns request `id` to whoever awaits it, as a SendError of `kind`. */
  fail(id: MessageId, kind: "Offline" | "Timeout"): void;
}
