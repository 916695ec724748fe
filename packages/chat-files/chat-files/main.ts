/**
 * chat-files:chat-files:template.os — the chat template with file sending, as
 * the exporting-workers recipe builds it: file transfer comes from
 * file-transfer's exported worker API (startDownload), not from code of its own.
 *
 *   m our@chat-files:chat-files:template.os '{"Send": {"target": "fake2.dev", "message": "hi"}}'
 *   m our@chat-files:chat-files:template.os '{"SendFile": {"target": "fake2.dev", "name": "photo.jpg"}}'
 *   m our@chat-files:chat-files:template.os '{"History": "fake2.dev"}'
 *
 * A file sent in a chat is offered to the peer, whose chat-files downloads it
 * (verified, resumable: the worker's guarantees) into its own files drive.
 */
import { type Message, our, println, Request, requests, Response, vfs } from "@hyperdeno/process_lib";
import { startDownload } from "../../file-transfer/api/file_transfer_worker_api.ts";
import type { DownloadRequest, FinishedRequest } from "../../file-transfer/api/types.ts";
import { cleanName } from "../../file-transfer/api/names.ts";

interface ChatMessage {
  author: string;
  content: string;
  file?: { name: string; size: number; status: "offered" | "receiving" | "received" | "failed"; error?: string };
}

const EXPECTED =
  `expected a JSON object: {"Send": {"target", "message"}}, {"SendFile": {"target", "name"}} or {"History": "<node>"}`;

/** The request's body if it is a JSON object (anything else gets EXPECTED, not a JavaScript error). */
function jsonObject(msg: Message): Record<string, unknown> | null {
  try {
    const body = msg.json<unknown>();
    return body && typeof body === "object" && !Array.isArray(body) ? body as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/** How long a peer may fetch a file offered to it. */
const OFFER_MS = 10 * 60_000;

export default async function init(_our: string) {
  const me = our();
  const drive = await vfs.createDrive(me.packageId(), "files");
  await vfs.createDrive(me.packageId(), "partial");
  const archive = new Map<string, ChatMessage[]>();
  const offered = new Map<string, number>(); // `${node}\n${name}` → until
  const receiving = new Map<string, ChatMessage>(); // transfer id → the chat message it belongs to
  const push = (node: string, m: ChatMessage) => archive.set(node, [...archive.get(node) ?? [], m]);
  const peerAddress = (node: string) => `${node}@${me.process}`;

  const handle = async (msg: Message) => {
    const local = msg.source.node === me.node;
    const answer = (v: unknown) => Response.to(msg).json(v).send();
    const body = jsonObject(msg);
    if (!body) {
      if (msg.expectsResponse() !== null) answer({ Err: EXPECTED });
      return;
    }
    if ("Send" in body) {
      const { target, message, file } = body.Send as { target: string; message: string; file?: ChatMessage["file"] };
      if (!local) {
        // A message from a peer; a file with it is fetched from that peer now.
        const m: ChatMessage = { author: msg.source.node, content: String(message) };
        if (file) {
          const name = cleanName(file.name);
          m.file = { name, size: Number(file.size), status: "receiving" };
          const transfer = crypto.randomUUID().slice(0, 8);
          receiving.set(transfer, m);
          startDownload(me, me, name, peerAddress(msg.source.node), true, { transfer }).catch((e) => {
            m.file!.status = "failed";
            m.file!.error = (e as Error).message;
          });
        }
        println(`${msg.source.node}: ${m.content}${m.file ? ` [file ${m.file.name}]` : ""}`);
        push(msg.source.node, m);
        return answer("Send");
      }
      await Request.to(peerAddress(target)).json({ Send: { target, message, file } }).sendAndAwaitResponse(10);
      push(target, { author: me.node, content: String(message), file });
      return answer("Send");
    }
    if ("SendFile" in body && local) {
      const { target, name: raw, message } = body.SendFile as { target: string; name: string; message?: string };
      const name = cleanName(raw);
      const m = await vfs.metadata(`${drive}/${name}`).catch(() => null);
      if (!m || m.file_type !== "File") return answer({ Err: `no file named ${name} to send` });
      offered.set(`${target}\n${name}`, Date.now() + OFFER_MS);
      const file = { name, size: m.len, status: "offered" as const };
      const content = message ?? `sent ${name}`;
      await Request.to(peerAddress(target)).json({ Send: { target, message: content, file } }).sendAndAwaitResponse(10);
      push(target, { author: me.node, content, file });
      return answer("Send");
    }
    if ("History" in body && local) return answer({ History: archive.get(String(body.History)) ?? [] });
    if ("Download" in body) {
      // The file-transfer worker protocol: a peer's worker asks for a file we offered it.
      const d = body.Download as DownloadRequest;
      if (d.is_requestor) return answer({ Download: { Err: "chat-files downloads what is sent in a chat" } });
      const name = cleanName(d.name);
      if ((offered.get(`${msg.source.node}\n${name}`) ?? 0) < Date.now()) {
        return answer({ Download: { Err: `${name} was not offered to ${msg.source.node}` } });
      }
      await startDownload(me, msg.source, name, String(msg.source), false);
      return answer({ Download: { Ok: null } });
    }
    if ("Finished" in body && local) {
      const f = body.Finished as FinishedRequest;
      const m = receiving.get(f.transfer);
      if (!m?.file) return;
      receiving.delete(f.transfer);
      m.file.status = f.outcome === "done" ? "received" : "failed";
      if (f.error) m.file.error = f.error;
      println(`${m.author}'s file ${m.file.name}: ${f.outcome === "done" ? "received, SHA-256 verified" : f.error}`);
      return;
    }
    if ("Progress" in body) return; // the worker's progress: a chat shows the result only
    if (msg.expectsResponse() !== null) answer({ Err: "unknown request" });
  };

  for await (const msg of requests(() => {})) {
    handle(msg).catch((e) => {
      if (msg.expectsResponse() !== null) Response.to(msg).json({ Err: (e as Error).message }).send();
    });
  }
}
