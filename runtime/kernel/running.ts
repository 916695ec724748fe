/**
 * The kernel's side of one live process: its worker, a batched outbox, the
 * recent messages it received (what Response.send answers and what inherit
 * reuses), and the blobs it asked the kernel to keep instead of handing them
 * over (withheld: bulk data it only passes on, so its bytes never cross into
 * the process).
 */
import type { FromProcess, ToProcess } from "../host/protocol.ts";
import { type Batch, decodeFromProcess, encodeToProcess } from "../host/wire.ts";
import type { Address, KernelMessage, LazyLoadBlob, MessageId, ProcessId } from "../types.ts";
import type { ProcessThread } from "./sandbox.ts";
import { LIMITS } from "../limits.ts";
import { given } from "./sole_blobs.ts";

export interface Received {
  source: Address;
  rsvp: Address | null;
  isRequest: boolean;
  expectsResponse: boolean;
  blob: LazyLoadBlob | null;
}

/** How many recent messages a process can still inherit from. */
const MAX_RECEIVED = 512;
/** Requests awaiting this process's answer; beyond this the oldest are let go. */
const MAX_UNANSWERED = 100_000;
const BATCH_MAX = 256;
/** Blob bytes kept for inherit; older blobs are let go first. */
const MAX_BLOB_BYTES = 64 * 1024 * 1024;
/**
 * Smaller blobs are delivered even to a process that asked to keep them here:
 * cheap to hand over, and so a process's withheld blobs number at most
 * LIMITS.withheldBlobBytes / KEEP_FROM.
 */
const KEEP_FROM = 4096;

export class Running {
  private outbox: ToProcess[] = [];
  private flushing = false;
  private received = new Map<MessageId, Received>();
  /**
   * What was received, oldest first from `head` (entries forgotten since are
   * skipped): the oldest of a Map whose front was just deleted from costs a
   * walk over the deleted slots, ~2.5 µs a message in a pipeline.
   */
  private order: [MessageId, Received][] = [];
  private head = 0;
  /** Requests that expect a response, kept until answered however many arrive after. */
  private unanswered = new Map<MessageId, Received>();
  private blobBytes = 0;
  /** Blobs kept for this process instead of delivered, by the id of the message they came with. */
  private withheld = new Map<MessageId, LazyLoadBlob>();
  /** Their bytes: at most LIMITS.withheldBlobBytes. */
  withheldBytes = 0;
  /** Whether the blobs of requests this process receives stay here (the process asked). */
  keepIncomingBlobs = false;
  readonly startedAt = Date.now();
  /** Messages this process sent and received, for `top`. */
  sent = 0;
  delivered = 0;
  /** Messages (and their bytes) posted to the thread and not yet taken off its port. */
  unread = 0;
  unreadBytes = 0;
  private outboxBytes = 0;
  /** Per batch posted and not yet taken: [messages, bytes]. */
  private inFlight: [number, number][] = [];

  constructor(
    readonly id: ProcessId,
    readonly thread: ProcessThread,
    onBatch: (batch: FromProcess[]) => void,
  ) {
    thread.port.onmessage = thread.port.messages
      ? (e: MessageEvent) => onBatch(e.data as FromProcess[])
      : (e: MessageEvent) => onBatch(decodeFromProcess(e.data as Batch));
  }

  post(m: ToProcess, bytes = 0) {
    // Bytes a process is given wait in its outbox, then maybe in its host's write queue (binary.ts writes large ones as
    // they are): whatever else holds them, none may be released now (sole_blobs.ts). A SendError hands its request's
    // blob back, a fetch_blob reply a withheld one the process may still move into a request.
    const blob = m.t === "msg" ? m.km.lazy_load_blob : m.t === "err" ? m.error.lazy_load_blob : null;
    if (blob) given(blob.bytes);
    else if (m.t === "reply" && (m.value as { bytes?: unknown } | null)?.bytes instanceof Uint8Array) {
      given((m.value as { bytes: Uint8Array }).bytes);
    }
    this.outbox.push(m);
    this.outboxBytes += bytes;
    // A long batch goes at once, so the process starts on it while the kernel goes on.
    if (this.outbox.length >= BATCH_MAX) {
      this.send();
      return;
    }
    if (!this.flushing) {
      this.flushing = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush() {
    this.flushing = false;
    if (this.outbox.length) this.send();
  }

  private send() {
    const n = this.outbox.length, bytes = this.outboxBytes;
    const port = this.thread.port;
    port.postMessage(port.messages ? this.outbox : encodeToProcess(this.outbox));
    this.outbox = [];
    this.outboxBytes = 0;
    this.unread += n;
    this.unreadBytes += bytes;
    this.inFlight.push([n, bytes]);
  }

  /** The thread took `n` messages off its port (whole batches, in order). */
  took(n: number) {
    while (n > 0 && this.inFlight.length) {
      const [count, bytes] = this.inFlight.shift()!;
      n -= count;
      this.unread -= count;
      this.unreadBytes -= bytes;
    }
  }

  /** Whether the thread is too far behind to be given more. */
  get full(): boolean {
    return this.unread + this.outbox.length >= LIMITS.unreadMessages ||
      this.unreadBytes + this.outboxBytes >= LIMITS.unreadBytes;
  }

  /**
   * Posts `km` to the process. With `keep`, its blob stays here and the
   * process hears only its size and mime, while this process's withheld bytes
   * stay within LIMITS.withheldBlobBytes; returns false when they would not
   * (the blob went with the message, as without `keep`).
   */
  deliver(km: KernelMessage, context: Uint8Array | null, keep = false): boolean {
    this.delivered++;
    const inner = "Request" in km.message ? km.message.Request : km.message.Response[0];
    const blob = km.lazy_load_blob;
    const size = blob?.bytes.length ?? 0;
    const within = this.withheldBytes + size <= LIMITS.withheldBlobBytes;
    if (keep && size >= KEEP_FROM && within) {
      this.releaseBlob(km.id);
      this.withheld.set(km.id, blob!);
      this.withheldBytes += size;
      const bare = { ...km, lazy_load_blob: null };
      this.remember(bare);
      this.post({ t: "msg", km: bare, context, withheld: { mime: blob!.mime, size } }, inner.body.length);
      return true;
    }
    this.remember(km);
    this.post({ t: "msg", km, context }, inner.body.length + size);
    return within || !keep || size < KEEP_FROM;
  }

  /** The blob withheld for message `id`, which stays withheld. */
  withheldBlob(id: MessageId | null): LazyLoadBlob | undefined {
    return id === null ? undefined : this.withheld.get(id);
  }

  /** The blob withheld for message `id`, no longer withheld: it goes with a message the process sends. */
  takeBlob(id: MessageId | null): LazyLoadBlob | undefined {
    const blob = this.withheldBlob(id);
    if (blob) this.releaseBlob(id!);
    return blob;
  }

  releaseBlob(id: MessageId) {
    const blob = this.withheld.get(id);
    if (!blob) return;
    this.withheld.delete(id);
    this.withheldBytes -= blob.bytes.length;
  }

  private remember(km: KernelMessage) {
    const isRequest = "Request" in km.message;
    const entry: Received = {
      source: km.source,
      rsvp: km.rsvp,
      isRequest,
      expectsResponse: isRequest && (km.message as { Request: { expects_response: number | null } }).Request
            .expects_response !== null,
      blob: km.lazy_load_blob,
    };
    this.forget(km.id);
    this.received.set(km.id, entry);
    this.order.push([km.id, entry]);
    if (entry.expectsResponse) {
      this.unanswered.set(km.id, entry);
      if (this.unanswered.size > MAX_UNANSWERED) this.unanswered.delete(this.unanswered.keys().next().value!);
    }
    if (entry.blob) this.blobBytes += entry.blob.bytes.length;
    while (this.received.size > MAX_RECEIVED) {
      const [oldest, r] = this.order[this.head++];
      // Forgotten, or remembered again since: not this entry to let go.
      if (this.received.get(oldest) !== r) continue;
      this.received.delete(oldest);
      if (r.blob && this.unanswered.get(oldest) !== r) {
        this.blobBytes -= r.blob.bytes.length;
        r.blob = null;
      }
    }
    if (this.head > MAX_RECEIVED) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    } else if (this.order.length > 4 * MAX_RECEIVED) {
      // Ids received again and again leave stale entries and no eviction to pass them.
      this.order = this.order.slice(this.head).filter(([id, r]) => this.received.get(id) === r);
      this.head = 0;
    }
    if (this.blobBytes > MAX_BLOB_BYTES) {
      for (const r of [...this.received.values(), ...this.unanswered.values()]) {
        if (this.blobBytes <= MAX_BLOB_BYTES) break;
        if (r.blob) {
          this.blobBytes -= r.blob.bytes.length;
          r.blob = null;
        }
      }
    }
  }

  private forget(id: MessageId) {
    const prev = this.received.get(id) ?? this.unanswered.get(id);
    if (prev?.blob) {
      this.blobBytes -= prev.blob.bytes.length;
      prev.blob = null;
    }
    this.received.delete(id);
    this.unanswered.delete(id);
  }

  /** The request `id` was answered: it cannot be answered again. */
  answered(id: MessageId) {
    const r = this.unanswered.get(id);
    if (r) {
      this.unanswered.delete(id);
      if (!this.received.has(id) && r.blob) {
        this.blobBytes -= r.blob.bytes.length;
        r.blob = null;
      }
    }
  }

  recall(id: MessageId | null): Received | undefined {
    return id === null ? undefined : this.unanswered.get(id) ?? this.received.get(id);
  }

  terminate() {
    this.thread.terminate();
  }
}
