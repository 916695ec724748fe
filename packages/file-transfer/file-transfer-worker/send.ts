/**
 * The provider's side of a transfer: announce the file's size at once, start
 * where the receiver asks, and stream it with at most a window of bytes read
 * and not yet acknowledged, so memory stays flat for any size. The file's
 * SHA-256 follows the last chunk (Digest): the VFS hashes the bytes as they
 * are read, so the first byte leaves at once instead of after a whole read of
 * the file. A file whose length or modification time is not what it was at
 * the offer is refused as changed, so the Digest always describes the file
 * the receiver was offered.
 *
 * The bytes never enter this process: each chunk is a VFS read whose blob the
 * kernel keeps (readAtInKernel), sent on to the receiver with blobOf. Several
 * reads are in flight at once, at their own offsets.
 *
 * Its parent may have offered the file already (file-transfer's main process
 * does, so that no worker waits on a receiver that never answers): then the
 * receiver's Start comes with the Download request. Otherwise it offers the
 * file itself, as the template's worker does.
 *
 * A folder is answered with its listing (the receiver's parent downloads each
 * file), within the bounds a folder download has.
 */
import { type Message, type ProcessAddress, Request, Response, vfs } from "@hyperdeno/process_lib";
import type { DownloadRequest, InternalResponse, ProgressRequest } from "../api/types.ts";
import { BadName, cleanName } from "../api/names.ts";
import { fileVersion, folderTooLarge, listFiles, toHex } from "../api/listing.ts";
import {
  ACK_S,
  chunkSize,
  HEARTBEAT_MS,
  OFFER_EXPIRY_S,
  PROGRESS_MS,
  SENDER_BEAT_MS,
  windowBytes,
} from "../api/tuning.ts";
import { deferred, pump } from "./inbox.ts";
import { safeJson } from "./main.ts";

/** How long the sender waits for the receiver's verdict (it may wait for our hash first). */
const VERDICT_MS = 120_000;

export async function send(me: ProcessAddress, parent: ProcessAddress, req: DownloadRequest) {
  const peer = req.target;
  const peerNode = peer.split("@")[0];
  const drive = `/${me.packageId()}/files`;
  let name: string;
  try {
    name = cleanName(req.name);
  } catch (e) {
    return fail(peer, (e as BadName).message);
  }
  const path = `${drive}/${name}`;
  let meta: vfs.FileMetadata;
  try {
    meta = await vfs.metadata(path);
  } catch {
    return fail(peer, `${me.node} has no file named ${name}`);
  }
  if (meta.file_type === "Directory") {
    const passed = await folderTooLarge(me.node, drive, name);
    if (passed) return fail(peer, passed.error);
    Request.to(peer).json({ Folder: (await listFiles(drive, name)).files }).send();
    return;
  }
  if (meta.file_type !== "File") return fail(peer, `${name} on ${me.node} is not a file`);

  const size = meta.len;
  const T = { read: 0, room: 0, t0: performance.now(), hash: 0 };
  let sha256: string | null = null;
  // The version says at once whether a partial file from an earlier attempt still holds this file's bytes.
  const version = fileVersion(meta);
  const start = req.start ?? await offer(peer, { name, size, sha256, version });
  if (!start) return; // the receiver went away before it started
  if (start.version !== version) return fail(peer, `${name} changed on ${me.node} since it was offered`);
  const offset = start.offset;
  const chunk = chunkSize(start.chunk);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) return fail(peer, `bad start offset ${offset}`);

  /** `done`: the receiver verified the whole file; only then is the upload done in this node's table. */
  const report = (bytes: number, stats?: Record<string, number>, stopped?: string, done?: boolean) => {
    const p: ProgressRequest = {
      name,
      progress: size ? Math.floor(bytes / size * 100) : 100,
      bytes,
      size,
      sha256,
      transfer: me.process,
    };
    Request.to(parent).json({ Progress: { ...p, peer: peerNode, direction: "upload", stats, stopped, done } }).send();
  };

  let acked = offset;
  // The parent keeps this worker's place while it hears from it (a worker that ended without a word frees it).
  const beat = setInterval(() => report(acked), SENDER_BEAT_MS);
  const file = await vfs.openFile(path, false).catch((e) => {
    clearInterval(beat);
    throw e;
  });
  const verdict = deferred<void>();
  /** The receiver's word at the end: "Done" (verified), or why it stopped ({"Fail"}). */
  let confirmed = false;
  let refused: string | null = null;
  // The receiver's Recheck (after a hash mismatch), Done and Fail arrive as requests.
  const loop = pump((msg: Message) => {
    if (msg.source.toString() !== peer || !msg.isRequest()) return;
    const body = safeJson(msg);
    if (body === "Done") {
      confirmed = true;
      verdict.resolve();
    } else if (body && typeof body === "object" && "Fail" in body) {
      const why = String((body as { Fail: unknown }).Fail).slice(0, 300);
      refused = why.startsWith(`${peerNode} `) || why.startsWith(`${peerNode}:`) ? why : `${peerNode}: ${why}`;
      verdict.resolve();
    } else if (body === "Alive") Response.to(msg).json("Alive").send();
    else if (body === "Recheck") {
      new vfs.File(path).hash().then(
        (h) => Response.to(msg).json({ Recheck: { sha256: toHex(h) } }).send(),
        () => Response.to(msg).json({ Recheck: { sha256: null } }).send(),
      );
    }
  }, verdict.promise);

  // Reads from the start hash the file as they go; a resumed transfer hashes the whole file alongside.
  const whole = offset > 0 ? new vfs.File(path).hash() : null;
  whole?.catch(() => {});
  let lastReport = 0;
  try {
    await stream(
      file,
      offset,
      size,
      chunk,
      (off, length, read) =>
        Request.to(peer).json({ Chunk: { name, offset: off, length } }).blobOf(read).sendAndAwaitResponse(ACK_S)
          .then((r) => {
            if (safeJson(r) !== "Ack") throw new Error(`receiver refused a chunk: ${r.text().slice(0, 200)}`);
          }),
      (n) => {
        acked = n;
        if (performance.now() - lastReport < PROGRESS_MS) return;
        lastReport = performance.now();
        report(n);
      },
      T,
    );
    const now = await vfs.metadata(path);
    if (now.len !== meta.len || now.modified !== meta.modified) throw new Changed();
    const th = performance.now();
    // A whole file's hash may outlast the receiver's patience for silence: say we are at it.
    const alive = setInterval(() => Request.to(peer).json("Hashing").send(), HEARTBEAT_MS);
    try {
      sha256 = toHex(await (whole ?? new vfs.File(path).hash()));
    } finally {
      clearInterval(alive);
    }
    T.hash = performance.now() - th;
    Request.to(peer).json({ Digest: { sha256 } }).send();
    const stats = {
      total_ms: Math.round(performance.now() - T.t0),
      hash_ms: Math.round(T.hash),
      read_wait_ms: Math.round(T.read),
      window_wait_ms: Math.round(T.room),
    };
    // Wait for the verdict, answering a Recheck meanwhile.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([verdict.promise, new Promise((r) => timer = setTimeout(r, VERDICT_MS))]);
    clearTimeout(timer);
    if (confirmed) report(size, stats, undefined, true);
    else report(size, stats, refused ?? `${peerNode} did not confirm ${name} within ${VERDICT_MS / 1000} s`);
  } catch (e) {
    let why = `${peerNode} stopped acknowledging (it went away, or refused a chunk)`;
    if (refused) why = refused;
    else if (e instanceof Shorter) why = `${name} changed on ${me.node} during the transfer (it is shorter now)`;
    else if (e instanceof Changed) why = `${name} changed on ${me.node} during the transfer`;
    else if (e instanceof vfs.VfsError) why = `${name} could not be read on ${me.node}`;
    else why = `${why}: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}`;
    // The receiver hears why unless it is the one gone; this node's table hears either way.
    if (!why.startsWith(peerNode)) fail(peer, why);
    report(acked, undefined, why);
  } finally {
    clearInterval(beat);
    verdict.resolve();
    await loop;
    await file.close().catch(() => {});
  }
}
/** Offers the file to the receiver (the template's flow, without a main process that offered it): its Start, or null. */
async function offer(
  peer: string,
  o: { name: string; size: number; sha256: string | null; version: string },
): Promise<NonNullable<DownloadRequest["start"]> | null> {
  try {
    const r = await Request.to(peer).json({ Offer: o }).sendAndAwaitResponse(OFFER_EXPIRY_S);
    const body = safeJson(r) as InternalResponse;
    if (!body || typeof body !== "object" || !("Start" in body)) return null;
    return { ...body.Start, size: o.size, version: o.version };
  } catch {
    return null;
  }
}

/** The file gave fewer bytes than it had when offered. */
class Shorter extends Error {}
/** The file is not as it was when offered. */
class Changed extends Error {}

/**
 * Sends bytes [offset, size) of `file` as chunks, reading ahead within the
 * window: a chunk is read (its bytes left in the kernel), sent with `sendChunk`,
 * and its room in the window is free once the receiver acknowledges it.
 */
async function stream(
  file: vfs.File,
  offset: number,
  size: number,
  chunk: number,
  sendChunk: (offset: number, length: number, read: Message) => Promise<void>,
  onAcked: (bytes: number) => void,
  T: { read: number; room: number },
) {
  const window = windowBytes(chunk);
  const reads: { offset: number; length: number; reply: Promise<Message> }[] = [];
  let next = offset, inFlight = 0, acked = offset;
  let failure: unknown = null;
  let room = deferred<void>();
  while (acked < size) {
    if (failure) throw failure;
    while (next < size && inFlight + Math.min(chunk, size - next) <= window) {
      const length = Math.min(chunk, size - next);
      const reply = file.readAtInKernel(next, length);
      reply.catch(() => {}); // awaited in turn below
      reads.push({ offset: next, length, reply });
      inFlight += length;
      next += length;
    }
    const r = reads.shift();
    if (!r) {
      const t = performance.now();
      await room.promise;
      T.room += performance.now() - t;
      room = deferred<void>();
      continue;
    }
    const t = performance.now();
    let read: Message;
    try {
      read = await r.reply;
    } catch {
      throw new Shorter();
    }
    T.read += performance.now() - t;
    if (read.blobInfo()?.size !== r.length) throw new Shorter();
    sendChunk(r.offset, r.length, read).then(() => {
      inFlight -= r.length;
      acked += r.length;
      onAcked(acked);
      room.resolve();
    }, (e) => {
      failure ??= e;
      room.resolve();
    });
  }
}

function fail(peer: string, why: string) {
  Request.to(peer).json({ Fail: why }).send();
}
