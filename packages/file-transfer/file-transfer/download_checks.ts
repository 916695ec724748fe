/**
 * What can be known about a download before it is queued, said at once
 * instead of by a transfer that fails (or retries forever) later: a download
 * from this node itself, from a node no one has registered, or onto a file
 * here that is not to be replaced. (A file that appears here meanwhile is
 * still caught by the receiving worker.)
 */
import { net, vfs } from "@hyperdeno/process_lib";

/** Why a download of `name` from `target` cannot start; null when it may. */
export async function downloadRefusal(
  our: string,
  target: string,
  name: string,
  overwrite: boolean,
  drive: string,
): Promise<string | null> {
  const node = target.split("@")[0];
  if (node === our) return `${name} would come from ${node}, which is this node: name another node`;
  if (!await net.getPeer(node).catch(() => null)) {
    return `no node named ${node} is known to this node: check the name (the peers command lists the nodes it knows)`;
  }
  const here = await vfs.metadata(`${drive}/${name}`).catch(() => null);
  if (!overwrite && here?.file_type === "File") {
    return `${name} already exists here: download with --overwrite (or "overwrite": true) to replace it`;
  }
  return null;
}
