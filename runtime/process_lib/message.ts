/** What awaitMessage hands a process: a received Request or Response, or a SendError. */
import type { WithheldBlob } from "../host/protocol.ts";
import {
  type Address,
  type Capability,
  fromUtf8,
  type KernelMessage,
  type LazyLoadBlob,
  type MessageId,
  nodeOf,
  processOf,
  type SendError as SendErrorShape,
  type SendErrorKind,
} from "../types.ts";

/** An address with its parts at hand, printing as `node@proc:pkg:pub`. */
export class ProcessAddress {
  constructor(readonly node: string, readonly process: string) {}
  static parse(a: Address): ProcessAddress {
    return new ProcessAddress(nodeOf(a), processOf(a));
  }
  /** `pkg:publisher` */
  packageId(): string {
    return this.process.split(":").slice(1).join(":");
  }
  processName(): string {
    return this.process.split(":")[0];
  }
  toString(): string {
    return `${this.node}@${this.process}`;
  }
  toJSON(): string {
    return this.toString();
  }
}

/** Message.blob() of a message whose blob stayed in the kernel. */
export class BlobInKernel extends Error {
  override name = "BlobInKernel";
}

export class Message {
  readonly source: ProcessAddress;
  constructor(
    readonly km: KernelMessage,
    readonly context: Uint8Array | null,
    /** Set when the blob stayed in the kernel (keepBlobInKernel, keepIncomingBlobsInKernel): what it is. */
    readonly withheld: WithheldBlob | null = null,
  ) {
    this.source = ProcessAddress.parse(km.source);
  }
  isRequest(): boolean {
    return "Request" in this.km.message;
  }
  isResponse(): boolean {
    return "Response" in this.km.message;
  }
  /** Whether the message came from a process on this node. */
  isLocal(our: string | ProcessAddress): boolean {
    const node = typeof our === "string" ? (our.includes("@") ? our.split("@")[0] : our) : our.node;
    return this.source.node === node;
  }
  /** The timeout the sender set, in seconds, or null when it expects no response. */
  expectsResponse(): number | null {
    const m = this.km.message;
    return "Request" in m ? m.Request.expects_response : null;
  }
  private inner() {
    const m = this.km.message;
    return "Request" in m ? m.Request : m.Response[0];
  }
  body(): Uint8Array {
    return this.inner().body;
  }
  text(): string {
    return fromUtf8(this.inner().body);
  }
  /** The body parsed as JSON; throws a SyntaxError naming the source when it is not. */
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.text());
    } catch (e) {
      throw new SyntaxError(`body from ${this.source} is not JSON: ${(e as Error).message}`);
    }
  }
  metadata(): string | null {
    return this.inner().metadata;
  }
  capabilities(): Capability[] {
    return this.inner().capabilities;
  }
  /**
   * This message's own blob (getBlob() gives the one received last). Throws
   * BlobInKernel when its bytes stayed in the kernel: pass it on with
   * `.blobOf(msg)`, or get a copy with `fetchBlob(msg)`.
   */
  blob(): LazyLoadBlob | null {
    if (this.withheld) {
      throw new BlobInKernel(
        `the blob of message ${this.km.id} (${this.withheld.size} bytes) stays in the kernel: pass it on with .blobOf(msg), or fetchBlob(msg) for its bytes`,
      );
    }
    return this.km.lazy_load_blob;
  }
  /** The blob's mime and size, and whether its bytes stayed in the kernel; null when there is none. */
  blobInfo(): { mime: string | null; size: number; inKernel: boolean } | null {
    if (this.withheld) return { ...this.withheld, inKernel: true };
    const b = this.km.lazy_load_blob;
    return b ? { mime: b.mime, size: b.bytes.length, inKernel: false } : null;
  }
  id(): MessageId {
    return this.km.id;
  }
}

/** A send that failed: the original message comes back with its context. */
export class SendError extends Error {
  override name = "SendError";
  readonly kind: SendErrorKind;
  readonly target: ProcessAddress;
  constructor(readonly error: SendErrorShape, readonly context: Uint8Array | null) {
    super(
      `${error.kind}: message to ${error.target} ${error.kind === "Offline" ? "could not be delivered" : "timed out"}`,
    );
    this.kind = error.kind;
    this.target = ProcessAddress.parse(error.target);
  }
  /** The body of the original message. */
  body(): Uint8Array {
    const m = this.error.message;
    return "Request" in m ? m.Request.body : m.Response[0].body;
  }
}
