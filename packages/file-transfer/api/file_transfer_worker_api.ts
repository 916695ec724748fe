/**
 * The exported worker API (the exporting-workers recipe): file transfer as a
 * library. A package that wants to send or receive files imports
 * `startDownload`, ships the worker under its own pkg/ (a process folder
 * `file-transfer-worker/` whose main.ts re-exports this package's worker), and
 * handles the worker's Download / Progress / Finished requests.
 *
 * ```ts
 * import { startDownload } from "../../file-transfer/api/file_transfer_worker_api.ts";
 * // requestor: download `name` from `fake2.dev@my-proc:my-pkg:me.os`
 * await startDownload(our(), msg.source, name, target, true);
 * // provider, on a Download request from a peer's worker:
 * await startDownload(our(), msg.source, req.name, req.target, false);
 * ```
 *
 * Files move between the `files` drives of the two packages
 * (`/<package>/files`), through a partial file in `/<package>/partial`.
 */
import { ourCapabilities, type ProcessAddress, Request, spawn } from "@hyperdeno/process_lib";
import type { DownloadRequest } from "./types.ts";
import { WORKER_NAME } from "./types.ts";

export * from "./types.ts";

/**
 * Spawns a worker for one transfer and hands it the Download request. The
 * requestor's worker receives `name` from `target`; the provider's worker
 * sends `name` to the requestor's worker, which is `source` (the Download
 * came from it). Resolves with the worker's address once it has accepted.
 *
 * A provider that has offered the file itself and holds the receiver's Start
 * passes it as `extra.start` (the worker then streams at once), and names the
 * worker (`processName`) as its offer did.
 */
export async function startDownload(
  our: ProcessAddress,
  source: ProcessAddress | string,
  name: string,
  target: string,
  isRequestor: boolean,
  extra: Pick<DownloadRequest, "overwrite" | "transfer" | "sha256" | "version" | "chunk" | "start"> = {},
  processName: string | null = null,
): Promise<string> {
  const worker = await spawn(
    processName,
    `${our.packageId()}/pkg/${WORKER_NAME}.js`,
    "None",
    await ourCapabilities(),
    [],
    false,
  );
  const address = `${our.node}@${worker}`;
  const download: DownloadRequest = {
    name,
    target: isRequestor ? target : String(source),
    is_requestor: isRequestor,
    ...extra,
  };
  const resp = await Request.to(address).json({ Download: download }).sendAndAwaitResponse(10);
  const r = resp.json<{ Download?: { Ok?: null; Err?: string } }>();
  if (r.Download?.Err !== undefined) throw new Error(r.Download.Err);
  return address;
}
