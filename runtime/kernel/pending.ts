/**
 * Requests awaiting responses, by message id. The kernel keeps each one
 * whole, because a SendError hands the request (and its blob) back; so what
 * one requester may keep here is bounded in count and bytes.
 */
import type { KernelMessage, MessageId, ProcessId } from "../types.ts";
import { LIMITS } from "../limits.ts";

export interface Pending {
  requester: ProcessId;
  context: Uint8Array | null;
  km: KernelMessage;
  bytes: number;
  /** The response's blob is to stay in the kernel, withheld from the requester (it asked). */
  keepBlob?: boolean;
  /** The request's blob was moved out of the kernel's keeping and is nobody else's (sole_blobs.ts). */
  releaseBlob?: boolean;
}

interface Held {
  count: number;
  bytes: number;
}

export function requestBytes(km: KernelMessage): number {
  const inner = "Request" in km.message ? km.message.Request : km.message.Response[0];
  return inner.body.length + (km.lazy_load_blob?.bytes.length ?? 0);
}

export class PendingRequests {
  private byId = new Map<MessageId, Pending>();
  private held = new Map<ProcessId, Held>();

  /** Why `requester` may not await one more request of `bytes`, or null. */
  refusal(requester: ProcessId, bytes: number): string | null {
    const h = this.held.get(requester);
    if (!h) return null;
    if (h.count >= LIMITS.pendingRequests) {
      return `${requester} already awaits ${h.count} responses: await some before sending more`;
    }
    if (h.bytes + bytes > LIMITS.pendingBytes) {
      return `${requester} already awaits responses to ${h.bytes} bytes of requests: await some before sending more`;
    }
    return null;
  }

  set(id: MessageId, p: Omit<Pending, "bytes">) {
    this.take(id);
    const bytes = requestBytes(p.km);
    this.byId.set(id, { ...p, bytes });
    const h = this.held.get(p.requester) ?? { count: 0, bytes: 0 };
    h.count++;
    h.bytes += bytes;
    this.held.set(p.requester, h);
  }

  get(id: MessageId): Pending | undefined {
    return this.byId.get(id);
  }

  has(id: MessageId): boolean {
    return this.byId.has(id);
  }

  /** Removes request `id` and returns it. */
  take(id: MessageId): Pending | undefined {
    const p = this.byId.get(id);
    if (!p) return undefined;
    this.byId.delete(id);
    const h = this.held.get(p.requester)!;
    h.count--;
    h.bytes -= p.bytes;
    if (h.count === 0) this.held.delete(p.requester);
    return p;
  }

  entries(): [MessageId, Pending][] {
    return [...this.byId];
  }

  clear() {
    this.byId.clear();
    this.held.clear();
  }
}
