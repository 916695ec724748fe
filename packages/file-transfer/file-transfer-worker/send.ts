/**
 * The provider's side of a transfer: announce the file (size and SHA-256),
 * start where the receiver asks, and stream chunks with at most WINDOW_BYTES
 * unacknowledged, so memory stays flat for any size. A folder is answered with
 * its listing (the receiver's parent downloads each file).
 */
import { type Message, type ProcessAddress, Request, Response, vfs } from "@hyperdeno/process_lib";
import type { DownloadRequest, InternalResponse, ProgressRequest } from "../api/types.ts";
import { BadName, cleanName } from "../api/names.ts";
import { listFiles, toHex } from "../api/listing.ts";
import { chunkSize, PROGRESS_MS, WINDOW_BYTES, WINDOW_CHUNKS } from "../api/tuning.ts";
import { deferred, pump } from "./inbox.ts";
import { readChunk } from "./vfs_blob.ts";
import { safeJson } from "./main.ts";

/** How long the sender waits for the receiver's verdict (it hashes the whole file first). */
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
    Request.to(peer).json({ Folder: await listFiles(drive, name) }).send();
    return;
  }
  if (meta.file_type !== "File") return fail(peer, `${name} on ${me.node} is not a file`);

  const th = performance.now();
  const sha256 = toHex(await new vfs.File(path).hash());
  const hashMs = performance.now() - th;
  const size = meta.len;
  let offset: number;
  let chunk: number;
  try {
    const r = await Request.to(peer).json({ Offer: { name, size, sha256 } }).sendAndAwaitResponse(60);
    const body = safeJson(r) as InternalResponse;
    if (!body || typeof body !== "object" || !("Start" in body)) return;
    offset = body.Start.offset;
    chunk = chunkSize(body.Start.chunk);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) return fail(peer, `bad start offset ${offset}`);
  } catch {
    return; // the receiver went away before it started
  }

  const report = (bytes: number, stats?: Record<string, number>) => {
    const p: ProgressRequest = {
      name,
      progress: size ? Math.floor(bytes / size * 100) : 100,
      bytes,
      size,
      sha256,
      transfer: me.process,
    };
    Request.to(parent).json({ Progress: { ...p, peer: peerNode, direction: "upload", stats } }).send();
  };

  const file = await vfs.openFile(path, false);
  const verdict = deferred<void>();
  // The receiver's Recheck (after a hash mismatch) and Done arrive as requests.
  const loop = pump((msg: Message) => {
    if (msg.source.toString() !== peer || !msg.isRequest()) return;
    const body = safeJson(msg);
    if (body === "Done") verdict.resolve();
    else if (body === "Recheck") {
      new vfs.File(path).hash().then(
        (h) => Response.to(msg).json({ Recheck: { sha256: toHex(h) } }).send(),
        () => Response.to(msg).json({ Recheck: { sha256: null } }).send(),
      );
    }
  }, verdict.promise);

  const T = { read: 0, ack: 0, t0: performance.now(), hash: hashMs };
  try {
    await file.seek({ Start: offset });
    const acks: { bytes: number; ack: Promise<unknown> }[] = [];
    let inFlight = 0;
    let lastReport = 0;
    let acked = offset;
    for (let off = offset; off < size;) {
      const length = Math.min(chunk, size - off);
      while (inFlight + length > Math.max(WINDOW_BYTES, WINDOW_CHUNKS * chunk) && acks.length) {
        const a = acks.shift()!;
        const ta = performance.now();
        await a.ack;
        T.ack += performance.now() - ta;
        inFlight -= a.bytes;
        acked += a.bytes;
        if (performance.now() - lastReport > PROGRESS_MS) {
          lastReport = performance.now();
          report(acked);
        }
      }
      let read: Message;
      try {
        const tr = performance.now();
        read = await readChunk(path, length);
        T.read += performance.now() - tr;
      } catch {
        Request.to(peer).json({ Fail: `${name} changed on ${me.node} during the transfer (it is shorter now)` })
          .send();
        return;
      }
      const ack = Request.to(peer).json({ Chunk: { name, offset: off, length } }).blobOf(read)
        .sendAndAwaitResponse(60).then((r) => {
          const b = safeJson(r);
          if (b !== "Ack") throw new Error(`receiver refused a chunk: ${r.text().slice(0, 200)}`);
        });
      ack.catch(() => {}); // awaited below; a failure ends the loop there
      acks.push({ bytes: length, ack });
      inFlight += length;
      off += length;
    }
    for (const a of acks) await a.ack;
    report(size, {
      total_ms: Math.round(performance.now() - T.t0),
      hash_ms: Math.round(T.hash),
      read_ms: Math.round(T.read),
      ack_wait_ms: Math.round(T.ack),
    });
    // Wait for the verdict, answering a Recheck meanwhile.
    await Promise.race([verdict.promise, new Promise((r) => setTimeout(r, VERDICT_MS))]);
  } catch {
    // The receiver stopped acknowledging: it went away, or refused a chunk (it tells its own parent why).
  } finally {
    verdict.resolve();
    await loop;
    await file.close().catch(() => {});
  }
}

function fail(peer: string, why: string) {
  Request.to(peer).json({ Fail: why }).send();
}
