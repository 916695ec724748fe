/**
 * The requestor's side of a transfer. Bytes go to a partial file
 * (`/<package>/partial/<transfer>.part`), which is what makes a transfer
 * resumable: its length is how far the last attempt got, and the sender is
 * asked to start there, unless the file it offers now has another SHA-256
 * than the one offered before (it changed: start over). When every byte is
 * in, the partial is synced and its SHA-256 compared with the sender's, and it
 * is renamed to its final name only if they match.
 *
 * The bytes never enter this process: the kernel keeps each chunk's blob and
 * the worker hands it to the VFS (writeAtFrom, at the chunk's offset), several
 * writes in flight at once. The VFS keeps the file's SHA-256 running as the
 * chunks land in order, so the check at the end reads nothing again.
 */
import {
  keepIncomingBlobsInKernel,
  type Message,
  type ProcessAddress,
  Request,
  Response,
  SendError,
  vfs,
} from "@hyperdeno/process_lib";
import type {
  DownloadRefusal,
  DownloadRequest,
  FileInfo,
  FinishedRequest,
  InternalRequest,
  ProgressRequest,
} from "../api/types.ts";
import { cleanName } from "../api/names.ts";
import { folderListingTooLarge, toHex } from "../api/listing.ts";
import { chunkSize, OFFER_MS, PROBE_MS, PROBE_S, PROGRESS_MS, STALL_MS, START_MS, windowBytes } from "../api/tuning.ts";
import { deferred, pump } from "./inbox.ts";
import { safeJson } from "./main.ts";

type Outcome = Omit<FinishedRequest, "transfer" | "name" | "bytes" | "size" | "sha256">;

const SHA256 = /^[0-9a-f]{64}$/;
/**
 * The partial file is flushed to disk each time this much more has been
 * written. Measured on 1 GiB (bench transfer): with it the sync before the
 * final name took 0.34 s, without it 1.8 s.
 */
const SYNC_BYTES = 256 * 1024 * 1024;

export async function receive(me: ProcessAddress, parent: ProcessAddress, req: DownloadRequest) {
  const pkg = me.packageId();
  const transfer = req.transfer ?? me.process.split(":")[0];
  const name = cleanName(req.name);
  const finalPath = `/${pkg}/files/${name}`;
  const partial = `/${pkg}/partial/${transfer}.part`;
  /** Beside a partial file whose every write landed: it may be resumed from its very end. */
  const wholeMarker = `${partial}.whole`;
  const source = req.target;
  const sourceNode = source.split("@")[0];
  /** The SHA-256 and version an earlier attempt was told: the partial file holds bytes of that file. */
  let earlier = req.sha256 ?? null;
  const earlierVersion = req.version ?? null;
  let version: string | null = earlierVersion;

  let size: number | null = null;
  /** The sender's SHA-256 of the file, once it says. */
  const digest = deferred<string>();
  let sha256: string | null = earlier;
  let received = 0;
  let startOffset: number | undefined;
  let file: vfs.File | null = null;
  const writes = new Set<Promise<unknown>>();
  let lastHeard = Date.now();
  let lastReport = 0;
  let peer: string | null = null; // the sending worker, once the offer names it
  let offerFrom: string | null = null; // who offered: the sending worker, or the provider's main process
  let heardSender = false; // the sending worker has spoken (a main process that offered starts it after our Start)
  const ended = deferred<Outcome>();
  const end = (o: Outcome) => ended.resolve(o);
  /** `kept`: the partial file is worth resuming from (the failure was here, not in the bytes or the peer's word). */
  const failed = (error: string, kept = false) => end({ outcome: "failed", error, ...(kept ? { kept } : {}) });
  const interrupted = (error: string) => end({ outcome: "interrupted", error });

  const report = (force = false) => {
    if (!force && performance.now() - lastReport < PROGRESS_MS) return;
    lastReport = performance.now();
    const p: ProgressRequest = {
      name,
      progress: size ? Math.floor(received / size * 100) : 0,
      transfer,
      bytes: received,
      size: size ?? undefined,
      sha256,
      version,
      offset: startOffset,
    };
    Request.to(parent).json({ Progress: p }).send();
  };

  // A folder of that name is fine (a folder download adds to it); a file is not replaced unless asked.
  if (!req.overwrite && await vfs.metadata(finalPath).then((m) => m.file_type === "File", () => false)) {
    return finish(parent, transfer, name, 0, null, null, {
      outcome: "failed",
      error: `${name} already exists here: download with --overwrite to replace it`,
    });
  }
  // Chunks' bytes stay in the kernel: this worker only tells the VFS where they go.
  await keepIncomingBlobsInKernel(true);

  const onOffer = async (
    msg: Message,
    offer: { size: number; sha256: string | null; version?: unknown; sender?: unknown },
  ) => {
    const offered = offer.sha256 ?? null;
    if (!Number.isSafeInteger(offer.size) || offer.size < 0 || (offered !== null && !SHA256.test(String(offered)))) {
      return failed(`${sourceNode} offered ${name} with a malformed size or SHA-256`);
    }
    const offeredVersion = typeof offer.version === "string" ? offer.version.slice(0, 64) : null;
    let offset = 0;
    const had = await vfs.metadata(partial).then((m) => m.len, () => -1);
    // The partial file goes on unless the offer says the file changed (else the Digest will, below).
    const sameSha = earlier === null || offered === null || earlier === offered;
    const sameVersion = earlierVersion === null || offeredVersion === null || earlierVersion === offeredVersion;
    // Writes land a little out of order (the VFS takes WriteAt past a file's end): a partial left by a worker that was
    // stopped mid-write (its node restarted) may end in bytes past a hole, within the sender's window. One left by a
    // worker that ended waiting for its writes is whole; the marker says which.
    const whole = await vfs.metadata(wholeMarker).then(() => true, () => false);
    if (whole) await vfs.removeFile(wholeMarker).catch(() => {});
    const safe = whole ? had : Math.max(0, had - windowBytes(chunkSize(req.chunk)));
    if (had >= 0 && sameSha && sameVersion && had <= offer.size) offset = Math.min(had, safe);
    version = offeredVersion;
    // Another file now: the SHA-256 heard before was that one's.
    if (!sameVersion) earlier = sha256 = null;
    size = offer.size;
    file = await vfs.openFile(partial, true);
    // A new partial file starts empty at its start; an old one is cut back to where it resumes.
    if (had > offset) await file.setLen(offset);
    received = offset;
    startOffset = offset;
    offerFrom = msg.source.toString();
    // The chunks come from the worker the offer names, on the same node; else from whoever offered.
    const sender = typeof offer.sender === "string" && offer.sender.startsWith(`${sourceNode}@`) ? offer.sender : null;
    peer = sender ?? offerFrom;
    heardSender = sender === null;
    T.offer = performance.now();
    if (offered !== null) onDigest(offered);
    report(true);
    Response.to(msg).json({ Start: { offset, ...(req.chunk ? { chunk: req.chunk } : {}) } }).send();
    if (size === offset) verify();
  };

  const onDigest = (d: string) => {
    if (!SHA256.test(String(d))) return failed(`${sourceNode} sent a malformed SHA-256 for ${name}`);
    if (digest.settled) return;
    if (earlier !== null && d !== earlier && (startOffset ?? 0) > 0) {
      // What the partial file holds came from the file as it was: start again from its first byte.
      sha256 = d;
      report(true);
      Promise.all(writes).then(() => vfs.removeFile(partial)).catch(() => {});
      return interrupted(`${name} changed on ${sourceNode} since the last attempt: starting over`);
    }
    sha256 = d;
    digest.resolve(d);
    report(true);
  };

  const onChunk = (msg: Message, c: { offset: number; length: number }) => {
    if (ended.settled) return;
    if (file === null || size === null) return failed(`${sourceNode} sent bytes before offering the file`);
    if (msg.blobInfo()?.size !== c.length) return failed(`${sourceNode} sent a chunk whose length is not its own`);
    const expected = received + pendingBytes;
    if (c.offset !== expected) return failed(`${sourceNode} sent bytes at ${c.offset}, expected ${expected}`);
    if (c.offset + c.length > size) {
      return failed(`${sourceNode} sent more than the ${size} bytes it announced for ${name}: discarded`);
    }
    pendingBytes += c.length;
    const tw = performance.now();
    const w = (file as vfs.File).writeAtFrom(c.offset, msg).then(() => {
      T.write = Math.max(T.write, performance.now() - tw);
      if (ended.settled) return;
      pendingBytes -= c.length;
      received += c.length;
      Response.to(msg).json("Ack").send();
      report();
      if (received === size) verify();
      else if (received - synced >= SYNC_BYTES && !syncing) {
        // Flushed as it goes, so the sync before the final name has little left to write.
        synced = received;
        syncing = true;
        (file as vfs.File).syncAll().catch(() => {}).finally(() => syncing = false);
      }
    }, async (e) => {
      if (ended.settled || failing) return;
      failing = true; // the first failure is the one to tell (the writes behind it fail too)
      const why = writeError(e, received, size!);
      // A full disk hurts everything else on the node: the partial file goes, to give the space back.
      if (why.startsWith("disk full")) await vfs.removeFile(partial).catch(() => {});
      failed(why, !why.startsWith("disk full"));
    });
    writes.add(w);
    w.finally(() => writes.delete(w));
  };
  let pendingBytes = 0;
  let synced = 0, syncing = false, failing = false;
  const T = { write: 0, hash: 0, digest: 0, t0: performance.now(), offer: 0 };

  // Whatever goes wrong while verifying ends the transfer (nothing else would: every byte is in).
  const verify = () =>
    checkAndPlace().catch((e) => failed(`could not verify ${name}: ${describe(e)}; the partial file is kept`, true));
  const checkAndPlace = async () => {
    report(true);
    const f = file!;
    const th = performance.now();
    // On disk before it is called done; the VFS kept the hash running as the chunks landed.
    const [, hash] = await Promise.all([f.syncAll(), new vfs.File(partial).hash()]);
    const got = toHex(hash);
    T.hash = performance.now() - th;
    const td = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const want = await Promise.race([digest.promise, new Promise<null>((r) => timer = setTimeout(r, OFFER_MS, null))]);
    clearTimeout(timer);
    T.digest = performance.now() - td;
    if (ended.settled) return;
    if (want === null) return interrupted(`${sourceNode} never sent the SHA-256 of ${name}`);
    if (got !== want) {
      // The sender hashes its file again: a new hash means it changed while we copied.
      let now: string | null = null;
      try {
        const r = await Request.to(peer!).json("Recheck").sendAndAwaitResponse(120);
        now = (safeJson(r) as { Recheck?: { sha256: string | null } })?.Recheck?.sha256 ?? null;
      } catch { /* gone: say what we know */ }
      await vfs.removeFile(partial).catch(() => {});
      return failed(
        now !== null && now !== want
          ? `${name} changed on ${sourceNode} during the transfer: discarded (download it again)`
          : `the bytes received do not match the SHA-256 ${sourceNode} announced for ${name}: discarded`,
      );
    }
    Request.to(peer!).json("Done").send();
    if (!req.overwrite && await exists(finalPath)) {
      return failed(`${name} appeared here during the transfer; the verified copy is kept as ${partial}`, true);
    }
    const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
    if (dir) await vfs.openDir(`/${pkg}/files/${dir}`, true);
    await f.close().catch(() => {});
    await vfs.rename(partial, finalPath);
    end({ outcome: "done", error: null });
  };

  const onMessage = (msg: Message) => {
    if (msg.isRequest() && msg.source.toString() === parent.toString() && safeJson(msg) === "Cancel") {
      Promise.all(writes).then(() => vfs.removeFile(partial)).catch(() => {});
      return failed("cancelled");
    }
    if (!msg.isRequest() || msg.source.node !== sourceNode) return;
    const from = msg.source.toString();
    if (peer !== null && from !== peer && from !== offerFrom) return;
    if (from === peer) heardSender = true;
    lastHeard = Date.now();
    const body = safeJson(msg) as InternalRequest | null;
    if (!body) return;
    if (typeof body === "object" && "Chunk" in body) onChunk(msg, body.Chunk);
    else if (typeof body === "object" && "Offer" in body) {
      if (size !== null) return; // one offer per transfer
      onOffer(msg, body.Offer).catch((e) => failed(`could not start writing ${name}: ${describe(e)}`));
    } else if (typeof body === "object" && "Digest" in body) onDigest(body.Digest?.sha256);
    else if (typeof body === "object" && "Folder" in body) {
      const entries = Array.isArray(body.Folder) ? body.Folder : [];
      // A listing past a folder download's bounds queues nothing here, whoever sent it.
      const passed = folderListingTooLarge(sourceNode, name, entries);
      if (passed) return failed(passed.error);
      folder = entries;
      end({ outcome: "done", error: null });
    } else if (typeof body === "object" && "Fail" in body) {
      // The sender's reason names its node already, or is prefixed with it; "busy:" says to try again later.
      const why = String(body.Fail).slice(0, 300);
      const said = why.startsWith(`${sourceNode} `) || why.startsWith(`${sourceNode}:`) ? why : `${sourceNode}: ${why}`;
      (why.startsWith("busy:") ? interrupted : failed)(said);
    }
  };
  let folder: FileInfo[] | undefined;

  const loop = pump(onMessage, ended.promise);
  let probing = false;
  const watchdog = setInterval(() => {
    // Before the sending worker's first word, the provider is starting it: a longer wait.
    const limit = size === null ? OFFER_MS : heardSender ? STALL_MS : START_MS;
    // Once every byte is in, the sender's SHA-256 is still to come (it sends "Hashing" while it works on it).
    const waiting = pendingBytes === 0 && (received !== size || !digest.settled);
    if (Date.now() - lastHeard > limit && waiting) {
      interrupted(`${sourceNode} went silent for ${limit / 1000} s`);
    } else if (peer && heardSender && waiting && !probing && Date.now() - lastHeard > PROBE_MS) {
      // A short silence: ask the sender. A node that is gone is known at once (Offline), not after STALL_MS.
      probing = true;
      Request.to(peer).json("Alive").sendAndAwaitResponse(PROBE_S).then(
        () => lastHeard = Date.now(),
        (e) => {
          if (e instanceof SendError && e.kind === "Offline") {
            interrupted(`${sourceNode} went away: its sender can no longer be reached`);
          }
        },
      ).finally(() => probing = false);
    } else if (size !== null && !heardSender && offerFrom && !probing && Date.now() - lastHeard > PROBE_MS) {
      // Its node may have gone between the offer and the sender's first word (killed, restarting): ask the process
      // that offered. Gone is known at once (Offline); an answer only says the node is there, so START_MS still
      // bounds a slow start.
      probing = true;
      Request.to(offerFrom).json("Alive").sendAndAwaitResponse(PROBE_S).then(
        () => {},
        (e) => {
          if (e instanceof SendError && e.kind === "Offline") {
            interrupted(`${sourceNode} went away before its sender started`);
          }
        },
      ).finally(() => setTimeout(() => probing = false, PROBE_MS));
    }
  }, 250);

  // Ask the provider's main process to serve us.
  try {
    const r = await Request.to(source).json({ Download: { name, target: me.toString(), is_requestor: false } })
      .sendAndAwaitResponse(15);
    const b = safeJson(r) as { Download?: { Err?: string }; Err?: string; refused?: DownloadRefusal } | null;
    const err = b?.Download?.Err ?? b?.Err;
    // A provider at its limits is asked again later (the retry pause grows); any other refusal stands.
    const busy = (b?.refused && "Busy" in b.refused) || String(err).startsWith("busy:");
    if (err !== undefined) (busy ? interrupted : failed)(String(err).slice(0, 300));
  } catch (e) {
    interrupted(
      e instanceof SendError
        ? `${sourceNode} is offline or not running ${source.split("@")[1]}`
        : `could not ask ${sourceNode}: ${describe(e)}`,
    );
  }

  const outcome = await ended.promise;
  clearInterval(watchdog);
  await loop;
  await Promise.allSettled([...writes]);
  if (outcome.outcome !== "done") await (file as vfs.File | null)?.close().catch(() => {});
  if ((outcome.outcome === "interrupted" || (outcome.outcome === "failed" && outcome.kept)) && file && !failing) {
    await vfs.createFile(wholeMarker).then((f) => f.close(), () => {});
  }
  // The sender hears why, so its node's table (and a waiting `hyperdeno send`) can say it.
  if (outcome.outcome !== "done" && peer) Request.to(peer).json({ Fail: outcome.error ?? "receiver stopped" }).send();
  const stats = {
    total_ms: Math.round(performance.now() - T.t0),
    before_first_byte_ms: Math.round((T.offer || performance.now()) - T.t0),
    slowest_write_ms: Math.round(T.write),
    hash_ms: Math.round(T.hash),
    digest_wait_ms: Math.round(T.digest),
  };
  finish(parent, transfer, name, received, size, sha256, { ...outcome, folder, stats });
}

function finish(
  parent: ProcessAddress,
  transfer: string,
  name: string,
  bytes: number,
  size: number | null,
  sha256: string | null,
  o: Outcome,
) {
  const f: FinishedRequest = { transfer, name, bytes, size, sha256, ...o };
  Request.to(parent).json({ Finished: f }).send();
}

async function exists(path: string): Promise<boolean> {
  return await vfs.metadata(path).then(() => true, () => false);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A failed write, said plainly: a full disk above all. */
function writeError(e: unknown, at: number, size: number): string {
  const text = describe(e);
  if (/no space|ENOSPC|quota|os error 28/i.test(text)) {
    return `disk full: wrote ${at} of ${size} bytes, then the disk had no room; the partial file was removed (free space and download again)`;
  }
  return `could not write: ${text}`;
}
