/**
 * Bodies too large for one blob. A request body past MAX_INLINE is written,
 * as it arrives, to a file in the binding package's tmp drive
 * (`/<package>/tmp/http-in/<id>`), and the process is handed that VFS path
 * (IncomingHttpRequest.body_file) instead of a blob; the file is removed once
 * the process has answered (it may rename it to keep it). A process answers
 * with a large body by naming a file of its own package
 * (HttpResponse.body_file); the server streams it from disk. Either way the
 * body passes through memory in 64 KiB pieces, never whole.
 */
import { HttpError } from "../../runtime/sockets/http1.ts";
import { joinBytes } from "../../runtime/bytes.ts";
import { packageOf, type ProcessId } from "../../runtime/types.ts";

/** The largest body handed to a process as a blob; past it the body goes to a file. */
export const MAX_INLINE = 64 * 1024 * 1024;
/** The largest body the server takes at all. */
export const MAX_SPOOLED = 4 * 1024 * 1024 * 1024;

export type ReadBody = { bytes: Uint8Array; file: null } | { bytes: null; file: { vfs: string; host: string } };

/** The request body, in memory when small, else in a spool file of `process`'s package. */
export async function readOrSpool(
  stream: ReadableStream<Uint8Array> | null,
  cl: string | null,
  home: string,
  process: ProcessId,
): Promise<ReadBody> {
  if (cl !== null && Number(cl) > MAX_SPOOLED) throw tooBig();
  if (!stream) return { bytes: new Uint8Array(), file: null };
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  let file: Deno.FsFile | null = null;
  let spool: { vfs: string; host: string } | null = null;
  try {
    if (cl !== null && Number(cl) > MAX_INLINE) ({ file, spool } = await openSpool(home, process));
    for (let n = await reader.read(); !n.done; n = await reader.read()) {
      total += n.value.length;
      if (total > MAX_SPOOLED) throw tooBig();
      if (!file && total > MAX_INLINE) {
        ({ file, spool } = await openSpool(home, process));
        for (const p of parts) await writeAll(file, p);
        parts.length = 0;
      }
      if (file) await writeAll(file, n.value);
      else parts.push(n.value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    file?.close();
    file = null;
    if (spool) await Deno.remove(spool.host).catch(() => {});
    throw e;
  } finally {
    file?.close();
  }
  if (spool) return { bytes: null, file: spool };
  return { bytes: parts.length === 1 ? parts[0] : joinBytes(parts), file: null };
}

function tooBig(): HttpError {
  return new HttpError(413, `request body over the ${MAX_SPOOLED}-byte limit of a bound path`);
}

async function writeAll(f: Deno.FsFile, b: Uint8Array) {
  let w = 0;
  while (w < b.length) w += await f.write(b.subarray(w));
}

async function openSpool(home: string, process: ProcessId) {
  const pkg = packageOf(process);
  const name = crypto.randomUUID();
  const dir = `${home}/vfs/${pkg}/tmp/http-in`;
  await Deno.mkdir(dir, { recursive: true });
  const host = `${dir}/${name}`;
  const file = await Deno.open(host, { write: true, createNew: true });
  return { file, spool: { vfs: `/${pkg}/tmp/http-in/${name}`, host } };
}

/**
 * The file a process names as its answer's body: a VFS path inside its own
 * package (no `..`, no empty segments), a regular file and not a symlink.
 */
export async function openBodyFile(
  home: string,
  process: ProcessId,
  vfsPath: string,
): Promise<{ file: Deno.FsFile; size: number } | string> {
  const pkg = packageOf(process);
  if (typeof vfsPath !== "string" || !vfsPath.startsWith(`/${pkg}/`)) return `body_file must be in /${pkg}/`;
  const segs = vfsPath.slice(1).split("/");
  if (
    segs.length < 3 || segs.some((s) => s === "" || s === "." || s === ".." || s.includes("\\") || s.includes("\0"))
  ) {
    return `body_file ${vfsPath} is not a file path of the VFS`;
  }
  const host = `${home}/vfs/${segs.join("/")}`;
  try {
    const st = await Deno.lstat(host);
    if (!st.isFile) return `body_file ${vfsPath} is not a regular file`;
    const file = await Deno.open(host, { read: true });
    return { file, size: (await file.stat()).size };
  } catch {
    return `body_file ${vfsPath} cannot be read`;
  }
}
