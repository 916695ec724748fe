/**
 * Blob bytes handed back to the system as soon as the kernel knows nobody can read them again, instead of when V8
 * next collects. A transfer moves each chunk through one buffer per side (a wire message opened into its own buffer,
 * a file read into its own) that lives a few milliseconds; V8 promotes most of them before they die, and a promoted
 * buffer waits for a full collection, which external memory starts only ~64 MiB past the last one. So a 1 GiB
 * download's nodes each held 60-90 MiB of dead chunks at their peaks (`FT_BENCH_BIG_ONLY=1 deno task bench transfer`:
 * the receiver's node 209 MiB with, 152 without them). Forcing collections instead cost more CPU than it saved
 * (heap_pacer.ts).
 *
 * A buffer is released only where every holder is known:
 * - its producer marks bytes sole when nothing else views their buffer: a wire message's blob (the link opens each
 *   message into a buffer of its own; what else the message held was copied out when it was delivered) and a
 *   file read (vfs reads each into a buffer of its own);
 * - a process moved the blob out of the kernel's keeping into a request (the kernel held it for that process alone,
 *   and holds it no longer), expecting a response, so the kernel keeps the request whole until then;
 * - the response came from another node (the bytes were sealed onto the wire before the peer could answer; one that
 *   answers after the message's first pieces only empties the rest of it, on its own link) or from vfs (each of its
 *   actions that takes a blob has written it before it answers).
 * Then nothing can read the bytes again: no SendError can hand them back, no inherit can reach them. Every other
 * send of a marked blob drops its mark for good (`sent`): inherited (the kernel still remembers it for the first
 * holder), given to a local process (which may keep it while the sender's request, awaiting an answer, holds it
 * too, for a SendError), in a response, or not awaited. Those, and blobs a process sent itself, are left to V8.
 */
import { nodeOf, processOf } from "../types.ts";
import type { KernelMessage, MessageId } from "../types.ts";
import { VFS } from "../api/processes.ts";

/** Smaller buffers are left to V8: they die young, and are cheap to keep if not. */
const RELEASE_FROM = 64 * 1024;

const sole = new WeakSet<Uint8Array>();

/**
 * Per sending process, ids of its requests to vfs or another node that ended without their target's answer (a
 * timeout, a refusal, an answer from someone else, the process's own say, or the process's end), each until when
 * that answer may still come. A process chooses its requests' ids, and the kernel matches an answer to a pending
 * request by id alone: the target's late answer to such a request would match a later one the process (or its
 * restart) sent under the same id, and release its blob before vfs wrote it or the link sealed it (found by two
 * reviews). A request under such an id releases nothing. Kept per process, so one cannot push another's ids out;
 * what one pushes out of its own harms only its own files and sends.
 */
const unanswered = new Map<string, Map<MessageId, number>>();
const UNANSWERED_KEPT = 4096;
/**
 * Ids kept at most in all (~70 bytes each): processes come and go (a package may spawn one after another), and their
 * ids must outlive them. Past it the node keeps none until the oldest have expired, and releases nothing early.
 */
const UNANSWERED_TOTAL = 65_536;
let total = 0;
let fullUntil = 0;
/** Longer than any request may wait for its answer (LIMITS caps expects_response well below it). */
const UNANSWERED_MS = 60 * 60_000;
let sinceSweep = 0;

/** `request` ended without its target's answer: that answer may still come. */
export function unansweredRequest(request: KernelMessage, our: string) {
  if (!releasableTarget(request.target, our)) return;
  const now = Date.now();
  if (++sinceSweep >= UNANSWERED_KEPT || total >= UNANSWERED_TOTAL) sweep(now);
  if (total >= UNANSWERED_TOTAL) {
    // Full: any id may be one a late answer matches, until this one could have had its answer.
    fullUntil = now + UNANSWERED_MS;
    return;
  }
  let ids = unanswered.get(request.source);
  if (!ids) unanswered.set(request.source, ids = new Map());
  if (ids.delete(request.id)) total--;
  ids.set(request.id, now + UNANSWERED_MS);
  total++;
  if (ids.size > UNANSWERED_KEPT) {
    ids.delete(ids.keys().next().value!);
    total--;
  }
}

function sweep(now: number) {
  sinceSweep = 0;
  for (const [source, ids] of unanswered) {
    for (const [id, until] of ids) {
      if (until >= now) break; // oldest first: the rest are newer
      ids.delete(id);
      total--;
    }
    if (ids.size === 0) unanswered.delete(source);
  }
}

function lateAnswerMayCome(km: KernelMessage): boolean {
  const now = Date.now();
  if (fullUntil > now) return true;
  const until = unanswered.get(km.source)?.get(km.id);
  return until !== undefined && until > now;
}

/** vfs, or another node: targets that are done with a request's bytes once they answer it. */
function releasableTarget(target: string, our: string): boolean {
  return nodeOf(target) !== our || processOf(target) === VFS;
}

/** Whether `answer` comes from `request`'s own target: vfs itself (a kernel-stamped source), or the node it went to. */
function fromTarget(request: KernelMessage, answer: KernelMessage, our: string): boolean {
  return nodeOf(request.target) === our
    ? answer.source === request.target
    : nodeOf(answer.source) === nodeOf(request.target);
}

/** `bytes` is the only view of its buffer anyone keeps (see above). */
export function markSole(bytes: Uint8Array) {
  if (bytes.byteLength >= RELEASE_FROM) sole.add(bytes);
}

/**
 * `bytes` went to a process (in a message, a SendError or a reply), and its host's stream may write them later, as
 * they are: never released.
 */
export function given(bytes: Uint8Array) {
  sole.delete(bytes);
}

export function isSole(bytes: Uint8Array): boolean {
  return sole.has(bytes);
}

/**
 * A process sends `km` (from node `our`): whether its blob may be released once answered, which needs it sole,
 * moved out of the kernel's keeping (`moved`), in a request awaiting an answer, to vfs or another node, under an id
 * that no request of its ended unanswered under lately (unansweredRequest). Any other send drops the blob's mark, whichever holders it
 * has now.
 */
export function sent(km: KernelMessage, moved: boolean, our: string): boolean {
  const bytes = km.lazy_load_blob?.bytes;
  if (!bytes || !sole.has(bytes)) return false;
  const awaited = "Request" in km.message && km.message.Request.expects_response !== null;
  const fresh = !lateAnswerMayCome(km);
  if (moved && awaited && fresh && releasableTarget(km.target, our)) return true;
  sole.delete(bytes);
  return false;
}

/**
 * `answer` to `request` (sent by node `our`) has come, and `release` says its blob was moved out of the kernel's
 * keeping: the blob's buffer goes back to the system now, if the answer is the request's own target's (vfs, or the
 * node it went to: a kernel-stamped or link-authenticated source) and so says the target is done with it. Any other
 * answer releases nothing (a process can answer its own request to vfs before vfs has written the blob: found by a
 * review that attacked this), and leaves the request unanswered by its target, whose answer may still come.
 */
export function answered(request: KernelMessage, answer: KernelMessage, our: string, release: boolean) {
  if (!fromTarget(request, answer, our)) return unansweredRequest(request, our);
  const bytes = request.lazy_load_blob?.bytes;
  if (!release || !bytes || !sole.has(bytes) || !releasableTarget(request.target, our)) return;
  sole.delete(bytes);
  const buffer = bytes.buffer as ArrayBuffer;
  // Moved elsewhere already (transferred to a worker): nothing is left here to release.
  if (buffer.detached) return;
  buffer.transfer(0);
}
