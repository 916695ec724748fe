/**
 * What can be known about a download before it is queued, said at once
 * instead of by a transfer that fails (or retries forever) later: a download
 * from this node itself, from a node no one has registered, onto a file here
 * that is not to be replaced, or of a name the peer does not have (or will not
 * give us). (A file that appears here meanwhile is still caught by the
 * receiving worker; a peer that is offline now is asked again when it is back.)
 */
import { Request, SendError, vfs } from "@hyperdeno/process_lib";
import type { DownloadCheck } from "../api/types.ts";
import { nodeRefusal } from "../api/nodes.ts";

/** How long the peer has to say whether it has the file; silence lets the download queue (it resumes later). */
const HAS_S = 5;

/** Why a download of `name` from `target` cannot start; null when it may. */
export async function downloadRefusal(
  our: string,
  process: string,
  target: string,
  name: string,
  overwrite: boolean,
  drive: string,
): Promise<DownloadCheck | null> {
  const node = target.split("@")[0];
  if (node === our) {
    return { code: "self", error: `${name} would come from ${node}, which is this node: name another node` };
  }
  const unknown = await nodeRefusal(node);
  if (unknown) return { code: "unknown", error: unknown };
  const here = await vfs.metadata(`${drive}/${name}`).catch(() => null);
  if (!overwrite && here?.file_type === "File") {
    return { code: "exists", error: `${name} already exists here: download with --overwrite to replace it` };
  }
  return await peerRefusal(target.includes("@") ? target : `${node}@${process}`, name);
}

/** The peer's own word on `name`: it has no such file, or does not let us download it. */
async function peerRefusal(address: string, name: string): Promise<DownloadCheck | null> {
  let r: { Err?: unknown; Has?: unknown };
  try {
    r = (await Request.to(address).json({ Has: { name } }).sendAndAwaitResponse(HAS_S)).json();
  } catch (e) {
    if (e instanceof SendError) return null; // offline or slow now: the download waits for it
    throw e;
  }
  if (typeof r?.Err !== "string") return null;
  // A peer of an older version does not know Has: its Download will say.
  if (r.Err.startsWith("unknown request")) return null;
  return { code: / may not /.test(r.Err) ? "refused" : "missing", error: r.Err.slice(0, 300) };
}
