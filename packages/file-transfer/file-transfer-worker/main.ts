/**
 * file-transfer-worker: one per transfer on each side, spawned through
 * startDownload (api/file_transfer_worker_api.ts). Its first message, from its
 * parent on this node, is the template's Download request: a requestor's
 * worker receives the file (receive.ts), a provider's worker sends it
 * (send.ts). It reports to its parent and exits when the transfer ends.
 */
import { awaitMessage, type Message, our, Request, Response, SendError } from "@hyperdeno/process_lib";
import type { DownloadRequest, FinishedRequest } from "../api/types.ts";
import { IDLE_MS } from "../api/tuning.ts";
import { receive } from "./receive.ts";
import { send } from "./send.ts";

export default async function init(_our: string) {
  const me = our();
  const first = await firstDownload(me.node);
  if (!first) return; // nothing to do (e.g. restarted with the node): exit
  const [msg, req] = first;
  Response.to(msg).json({ Download: { Ok: null } }).send();
  if (req.is_requestor) return await receive(me, msg.source, req);
  try {
    await send(me, msg.source, req);
  } finally {
    // The parent counts its senders: this one's place is free.
    const f: FinishedRequest = {
      transfer: me.process,
      name: req.name,
      outcome: "done",
      error: null,
      bytes: 0,
      size: null,
      sha256: null,
      direction: "upload",
    };
    Request.to(msg.source).json({ Finished: f }).send();
  }
}

/** The parent's Download request, or null when none comes within IDLE_MS. */
async function firstDownload(node: string): Promise<[Message, DownloadRequest] | null> {
  const idle = new Promise<null>((r) => setTimeout(() => r(null), IDLE_MS));
  while (true) {
    let msg: Message | null;
    try {
      msg = await Promise.race([awaitMessage(), idle]);
    } catch (e) {
      if (e instanceof SendError) continue;
      throw e;
    }
    if (!msg) return null;
    if (!msg.isRequest() || msg.source.node !== node) continue;
    const body = safeJson(msg);
    const d = body && typeof body === "object" ? (body as { Download?: DownloadRequest }).Download : undefined;
    if (d && typeof d.name === "string" && typeof d.target === "string") return [msg, d];
    Response.to(msg).json({ Download: { Err: "a worker takes one Download request first" } }).send();
  }
}

export function safeJson(msg: Message): unknown {
  try {
    return msg.json();
  } catch {
    return null;
  }
}
