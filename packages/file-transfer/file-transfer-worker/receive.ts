/**
 * The requestor's side of a transfer. Bytes go to a partial file
 * (`/<package>/partial/<transfer>.part`), which is what makes a transfer
 * resumable: its length is how far the last attempt got, and the sender is
 * asked to start there, unless the file it offers now has another SHA-256
 * than the one offered before (it changed: start over). When every byte is
 * in, the partial is synced and hashed, and renamed to its final name only if
 * the hash is the one the sender announced.
 */
import { type Message, type ProcessAddress, Request, Response, SendError, vfs } from "@hyperdeno/process_lib";
import type { DownloadRequest, FileInfo, FinishedRequest, InternalRequest, ProgressRequest } from "../api/types.ts";
import { cleanName } from "../api/names.ts";
import { toHex } from "../api/listing.ts";
import { OFFER_MS, PROGRESS_MS, STALL_MS } from "../api/tuning.ts";
import { deferred, pump } from "./inbox.ts";
import { writeChunk } from "./vfs_blob.ts";
import { safeJson } from "./main.ts";

type Outcome = Omit<FinishedRequest, "transfer" | "name" | "bytes" | "size" | "sha256">;

export async function receive(me: ProcessAddress, parent: ProcessAddress, req: DownloadRequest) {
  const pkg = me.packageId();
  const transfer = req.transfer ?? me.process.split(":")[0];
  const name = cleanName(req.name);
  const finalPath = `/${pkg}/files/${name}`;
  const partial = `/${pkg}/partial/${transfer}.part`;
  const source = req.target;
  const sourceNode = source.split("@")[0];

  let size: number | null = null;
  let sha256: string | null = req.sha256 ?? null;
  let received = 0;
  let startOffset: number | undefined;
  let file: vfs.File | null = null;
  let writes: Promise<unknown> = Promise.resolve();
  let lastHeard = Date.now();
  let lastReport = 0;
  let peer: string | null = null; // the sending worker, once it speaks
  const ended = deferred<Outcome>();
  const end = (o: Outcome) => ended.resolve(o);
  const failed = (error: string) => end({ outcome: "failed", error });
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

  const onOffer = async (msg: Message, offer: { size: number; sha256: string }) => {
    if (!Number.isSafeInteger(offer.size) || offer.size < 0 || !/^[0-9a-f]{64}$/.test(String(offer.sha256))) {
      return failed(`${sourceNode} offered ${name} with a malformed size or SHA-256`);
    }
    let offset = 0;
    const had = await vfs.metadata(partial).then((m) => m.len, () => -1);
    if (had >= 0 && (sha256 === null || sha256 === offer.sha256) && had <= offer.size) offset = had;
    size = offer.size;
    sha256 = offer.sha256;
    file = await vfs.openFile(partial, true);
    // A new partial file starts empty at its start; an old one is cut back to where it resumes.
    if (had > offset) await file.setLen(offset);
    if (offset > 0) await file.seek({ Start: offset });
    received = offset;
    startOffset = offset;
    peer = msg.source.toString();
    T.offer = performance.now();
    report(true);
    Response.to(msg).json({ Start: { offset, ...(req.chunk ? { chunk: req.chunk } : {}) } }).send();
    if (size === offset) writes = writes.then(verify);
  };

  const onChunk = (msg: Message, c: { offset: number; length: number }) => {
    const bytes = msg.blob()?.bytes;
    if (file === null || size === null) return failed(`${sourceNode} sent bytes before offering the file`);
    if (!bytes || bytes.length !== c.length) return failed(`${sourceNode} sent a chunk whose length is not its own`);
    const expected = received + pendingBytes;
    if (c.offset !== expected) return failed(`${sourceNode} sent bytes at ${c.offset}, expected ${expected}`);
    if (c.offset + c.length > size) {
      return failed(`${sourceNode} sent more than the ${size} bytes it announced for ${name}: discarded`);
    }
    pendingBytes += c.length;
    writes = writes.then(async () => {
      if (ended.settled) return;
      try {
        const tw = performance.now();
        await writeChunk(partial, msg);
        T.write += performance.now() - tw;
      } catch (e) {
        const why = writeError(e, received, size!);
        // A full disk hurts everything else on the node: the partial file goes, to give the space back.
        if (why.startsWith("disk full")) await vfs.removeFile(partial).catch(() => {});
        return failed(why);
      }
      pendingBytes -= c.length;
      received += c.length;
      Response.to(msg).json("Ack").send();
      report();
      if (received === size) await verify();
    });
  };
  let pendingBytes = 0;
  const T = { write: 0, hash: 0, t0: performance.now(), offer: 0 };

  // Whatever goes wrong while verifying ends the transfer (nothing else would: every byte is in).
  const verify = () =>
    checkAndPlace().catch((e) => failed(`could not verify ${name}: ${describe(e)}; the partial file is kept`));
  const checkAndPlace = async () => {
    report(true);
    const f = file!;
    const th = performance.now();
    // On disk before it is called done; the hash reads the page cache meanwhile.
    const [, hash] = await Promise.all([f.syncAll(), new vfs.File(partial).hash()]);
    const got = toHex(hash);
    T.hash = performance.now() - th;
    if (got !== sha256) {
      // The sender hashes its file again: a new hash means it changed while we copied.
      let now: string | null = null;
      try {
        const r = await Request.to(peer!).json("Recheck").sendAndAwaitResponse(120);
        now = (safeJson(r) as { Recheck?: { sha256: string | null } })?.Recheck?.sha256 ?? null;
      } catch { /* gone: say what we know */ }
      await vfs.removeFile(partial).catch(() => {});
      return failed(
        now !== null && now !== sha256
          ? `${name} changed on ${sourceNode} during the transfer: discarded (download it again)`
          : `the bytes received do not match the SHA-256 ${sourceNode} announced for ${name}: discarded`,
      );
    }
    Request.to(peer!).json("Done").send();
    if (!req.overwrite && await exists(finalPath)) {
      return failed(`${name} appeared here during the transfer; the verified copy is kept as ${partial}`);
    }
    const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
    if (dir) await vfs.openDir(`/${pkg}/files/${dir}`, true);
    await f.close().catch(() => {});
    await vfs.rename(partial, finalPath);
    end({ outcome: "done", error: null });
  };

  const onMessage = (msg: Message) => {
    if (msg.isRequest() && msg.source.toString() === parent.toString() && safeJson(msg) === "Cancel") {
      writes.then(() => vfs.removeFile(partial)).catch(() => {});
      return failed("cancelled");
    }
    if (!msg.isRequest() || msg.source.node !== sourceNode) return;
    if (peer !== null && msg.source.toString() !== peer) return;
    lastHeard = Date.now();
    const body = safeJson(msg) as InternalRequest | null;
    if (!body) return;
    if (typeof body === "object" && "Offer" in body) {
      if (size !== null) return; // one offer per transfer
      onOffer(msg, body.Offer).catch((e) => failed(`could not start writing ${name}: ${describe(e)}`));
    } else if (typeof body === "object" && "Chunk" in body) onChunk(msg, body.Chunk);
    else if (typeof body === "object" && "Folder" in body) {
      folder = Array.isArray(body.Folder) ? body.Folder : [];
      end({ outcome: "done", error: null });
    } else if (typeof body === "object" && "Fail" in body) failed(`${sourceNode}: ${String(body.Fail).slice(0, 300)}`);
  };
  let folder: FileInfo[] | undefined;

  const loop = pump(onMessage, ended.promise);
  const watchdog = setInterval(() => {
    const limit = size === null ? OFFER_MS : STALL_MS;
    if (Date.now() - lastHeard > limit && pendingBytes === 0 && received !== size) {
      interrupted(`${sourceNode} went silent for ${limit / 1000} s`);
    }
  }, 500);

  // Ask the provider's main process to serve us.
  try {
    const r = await Request.to(source).json({ Download: { name, target: me.toString(), is_requestor: false } })
      .sendAndAwaitResponse(15);
    const b = safeJson(r) as { Download?: { Err?: string }; Err?: string } | null;
    const err = b?.Download?.Err ?? b?.Err;
    if (err !== undefined) (String(err).startsWith("busy:") ? interrupted : failed)(String(err).slice(0, 300));
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
  await writes.catch(() => {});
  if (outcome.outcome !== "done") await (file as vfs.File | null)?.close().catch(() => {});
  if (outcome.outcome === "interrupted" && peer) Request.to(peer).json({ Fail: "receiver stopped" }).send();
  const stats = {
    total_ms: Math.round(performance.now() - T.t0),
    before_first_byte_ms: Math.round((T.offer || performance.now()) - T.t0),
    write_ms: Math.round(T.write),
    hash_ms: Math.round(T.hash),
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
