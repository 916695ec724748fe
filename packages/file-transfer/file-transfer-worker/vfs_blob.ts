/**
 * VFS reads and writes that leave the bytes where the kernel holds them: a
 * read's answer is passed on as a chunk, and a received chunk is written,
 * by naming the message that brought the blob (Request.blobOf) instead of
 * copying its bytes back out of this process (a pipe crossing per chunk when
 * the package runs in a process host).
 */
import { type Message, ourModule, Request, VFS, vfs } from "@hyperdeno/process_lib";

async function call(path: string, action: unknown, blobOf?: Message): Promise<Message> {
  const r = Request.to(ourModule(VFS)).json({ path, action });
  if (blobOf) r.blobOf(blobOf);
  const resp = await r.sendAndAwaitResponse(60);
  const body = resp.json<unknown>();
  if (body && typeof body === "object" && "Err" in body) throw new vfs.VfsError((body as { Err: unknown }).Err, path);
  return resp;
}

/** `length` bytes from the open file's cursor, as the message carrying them. */
export function readChunk(path: string, length: number): Promise<Message> {
  return call(path, { ReadExact: { length } });
}

/** Writes the blob `msg` arrived with at the open file's cursor. */
export async function writeChunk(path: string, msg: Message): Promise<void> {
  try {
    await call(path, "WriteAll", msg);
  } catch (e) {
    // The kernel keeps only so many received blobs: send the bytes themselves.
    const bytes = msg.blob()?.bytes;
    if (!(e instanceof vfs.VfsError) || !JSON.stringify(e.error).includes("BadBytes") || !bytes) throw e;
    await new vfs.File(path).writeAll(bytes);
  }
}
