/**
 * The kernel's side of one live process: its worker, a batched outbox, and
 * the recent messages it received (what Response.send answers and what
 * inherit reuses).
 */
import type { FromProcess, ToProcess } from "../host/protocol.ts";
import type { Address, KernelMessage, LazyLoadBlob, ProcessId } from "../types.ts";

export interface Received {
  source: Address;
  rsvp: Address | null;
  isRequest: boolean;
  expectsResponse: boolean;
  blob: LazyLoadBlob | null;
}

/** How many received messages a process can still answer or inherit from. */
const MAX_RECEIVED = 512;
/** Blob bytes kept for inherit; older blobs are let go first. */
const MAX_BLOB_BYTES = 64 * 1024 * 1024;

export class Running {
  private outbox: ToProcess[] = [];
  private flushing = false;
  private received = new Map<number, Received>();
  private blobBytes = 0;
  readonly startedAt = Date.now();
  /** Messages this process sent and received, for `top`. */
  sent = 0;
  delivered = 0;

  constructor(
    readonly id: ProcessId,
    readonly worker: Worker,
    onBatch: (batch: FromProcess[]) => void,
    onCrash: (error: string) => void,
  ) {
    worker.onmessage = (e: MessageEvent) => {
      if (Array.isArray(e.data)) onBatch(e.data as FromProcess[]);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      onCrash(e.message);
    };
  }

  post(m: ToProcess) {
    this.outbox.push(m);
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush() {
    this.flushing = false;
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length) this.worker.postMessage(batch);
  }

  deliver(km: KernelMessage, context: Uint8Array | null) {
    this.delivered++;
    this.remember(km);
    this.post({ t: "msg", km, context });
  }

  private remember(km: KernelMessage) {
    const isRequest = "Request" in km.message;
    const prev = this.received.get(km.id);
    if (prev?.blob) this.blobBytes -= prev.blob.bytes.length;
    this.received.delete(km.id);
    this.received.set(km.id, {
      source: km.source,
      rsvp: km.rsvp,
      isRequest,
      expectsResponse: isRequest && (km.message as { Request: { expects_response: number | null } }).Request
            .expects_response !== null,
      blob: km.lazy_load_blob,
    });
    if (km.lazy_load_blob) this.blobBytes += km.lazy_load_blob.bytes.length;
    while (this.received.size > MAX_RECEIVED) {
      const [oldest, r] = this.received.entries().next().value!;
      if (r.blob) this.blobBytes -= r.blob.bytes.length;
      this.received.delete(oldest);
    }
    if (this.blobBytes > MAX_BLOB_BYTES) {
      for (const r of this.received.values()) {
        if (this.blobBytes <= MAX_BLOB_BYTES) break;
        if (r.blob) {
          this.blobBytes -= r.blob.bytes.length;
          r.blob = null;
        }
      }
    }
  }

  recall(id: number | null): Received | undefined {
    return id === null ? undefined : this.received.get(id);
  }

  terminate() {
    this.worker.terminate();
  }
}
