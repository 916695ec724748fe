/**
 * Kino Files on the web: the main process serves ui/ (the page), a JSON API
 * under /api and a WebSocket at /ws that pushes every transfer's progress.
 * The API is a thin layer over the process's own JSON requests (it sends
 * them to itself), so the web and the terminal obey the same checks; only
 * uploads, which arrive as HTTP bodies, are handled here.
 *
 *   GET  api/files?path=          this node's files      GET  api/remote?node=&path=  another node's
 *   POST api/download {node,name} start a download       POST api/cancel|retry {id}
 *   GET  api/transfers            every transfer         GET|POST api/allow {node,action,allow}
 *   PUT  api/upload?name=         the body becomes the file (over 64 MiB it arrives as a file: renamed in)
 *   GET  api/file?name=           a file of this node, streamed to the browser
 *   POST api/delete {name}        removes a file or folder of this node
 *   POST api/push {node,name}     offers a file of this node to another, which downloads it if it allows us
 */
import {
  addToHomepage,
  bindHttpPath,
  bindWsPath,
  HTTP_SERVER,
  httpServerRequest,
  incomingHttpRequest,
  type Message,
  println,
  type ProcessAddress,
  Request,
  sendFileResponse,
  sendResponse,
  sendWsPush,
  serveUi,
  vfs,
} from "@hyperdeno/process_lib";
import type { DownloadCheck, FileInfo, TransferView } from "../api/types.ts";
import { nodeRefusal } from "../api/nodes.ts";
import { BadName, cleanFolder, cleanName } from "../api/names.ts";
import { listFiles } from "../api/listing.ts";
import { ask, mainAddress } from "../api/script_call.ts";
import type { Transfers } from "./transfers.ts";

const API = [
  "files",
  "remote",
  "download",
  "cancel",
  "retry",
  "transfers",
  "counts",
  "allow",
  "upload",
  "file",
  "delete",
  "push",
];
/** How often the WebSocket carries what changed (progress arrives per chunk, far more often). */
const PUSH_EVERY_MS = 250;
/** A JSON request body larger than this is not one of ours. */
const MAX_JSON = 64 * 1024;
const NODE = /^[a-z0-9][a-z0-9.-]{0,252}$/;
const JSON_TYPE = { "content-type": "application/json" };

/**
 * A refusal with the HTTP status it deserves, and beside the message a
 * machine-readable `code` (DownloadCheck's) for a page to word its own way.
 */
class HttpError extends Error {
  readonly status: number;
  readonly code?: string;
  constructor(status: number, message: string, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A download check's refusal as an HTTP answer. */
function checkError(c: DownloadCheck): HttpError {
  const status = { self: 400, unknown: 404, exists: 409, missing: 404, refused: 403 }[c.code] ?? 400;
  return new HttpError(status, c.error, c.code);
}

type Req = NonNullable<ReturnType<typeof incomingHttpRequest>>;

export class Web {
  private channels = new Set<number>();
  private dirty = new Map<string, TransferView>();
  private me: ProcessAddress;
  private drive: string;
  private transfers: Transfers;

  constructor(me: ProcessAddress, drive: string, transfers: Transfers) {
    this.me = me;
    this.drive = drive;
    this.transfers = transfers;
  }

  /** Binds the page, the API and the WebSocket, and puts a tile on the home page. */
  async start() {
    await serveUi("ui", true, false, ["/"]);
    for (const p of API) await bindHttpPath(`/api/${p}`, true, false);
    await bindWsPath("/ws", true);
    addToHomepage("Kino Files", ICON, "/", null);
    this.transfers.subscribe((t) => this.dirty.set(t.id, t));
    setInterval(() => this.flush(), PUSH_EVERY_MS);
  }

  /** Whether `msg` is the node's HTTP server speaking to us (a remote node's claim to be it counts for nothing). */
  owns(msg: Message): boolean {
    return msg.source.node === this.me.node && msg.source.process === HTTP_SERVER && httpServerRequest(msg) !== null;
  }

  async handle(msg: Message) {
    const server = httpServerRequest(msg)!;
    if ("WebSocketOpen" in server) {
      this.channels.add(server.WebSocketOpen.channel_id);
      sendWsPush(server.WebSocketOpen.channel_id, "Text", JSON.stringify({ transfers: this.transfers.list() }));
      return;
    }
    if ("WebSocketClose" in server) return void this.channels.delete(server.WebSocketClose);
    if ("WebSocketPush" in server) return; // the page only listens
    const req = incomingHttpRequest(msg)!;
    try {
      const { status, body } = await this.api(req, msg);
      if (body !== undefined) sendResponse(status, JSON_TYPE, JSON.stringify(body), msg);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : e instanceof BadName ? 400 : 500;
      if (status === 500) println(`file-transfer web: ${req.method} ${req.path()}: ${(e as Error).message}`);
      const code = e instanceof HttpError ? e.code : undefined;
      sendResponse(status, JSON_TYPE, JSON.stringify({ error: (e as Error).message, ...(code ? { code } : {}) }), msg);
    } finally {
      // A spooled body we did not keep is not left in the tmp drive.
      if (req.body_file) await vfs.removeFile(req.body_file).catch(() => {});
    }
  }

  /** Answers one API call: `body` undefined when the answer was already sent (a file). */
  private async api(req: Req, msg: Message): Promise<{ status: number; body?: unknown }> {
    const path = req.path().replace(/^\/api\//, "");
    const q = req.query_params;
    const want = (method: string) => {
      if (req.method !== method) throw new HttpError(405, `${path} wants ${method}, not ${req.method}`);
    };
    switch (path) {
      case "files":
        want("GET");
        return { status: 200, body: { node: this.me.node, ...await this.list(cleanFolder(q.path)) } };
      case "remote": {
        want("GET");
        const node = nodeName(q.node);
        const folder = cleanFolder(q.path);
        // This node's own files, marked so: a page offers no download of them (the terminal refuses it too).
        if (node === this.me.node) return { status: 200, body: { node, self: true, ...await this.list(folder) } };
        return { status: 200, body: { node, ...await this.remote(node, folder) } };
      }
      case "transfers":
        want("GET");
        return { status: 200, body: { transfers: this.transfers.list() } };
      case "counts":
        want("GET");
        return { status: 200, body: { counts: this.transfers.counts() } };
      case "download": {
        want("POST");
        const b = jsonBody(req);
        const node = nodeName(b.node);
        const r = await this.self<
          { Download?: { Err?: string }; transfer?: string; Err?: string; check?: DownloadCheck }
        >({
          Download: { name: cleanName(b.name), target: node, is_requestor: true, overwrite: b.overwrite === true },
        });
        if (r.check) throw checkError(r.check);
        const err = r.Err ?? r.Download?.Err;
        if (err !== undefined) throw new HttpError(400, err);
        return { status: 202, body: { transfer: this.transfers.get(r.transfer!) } };
      }
      case "cancel": {
        want("POST");
        const id = transferId(jsonBody(req).id);
        if (this.transfers.get(id)?.direction === "upload") {
          throw new HttpError(409, "a peer's download is theirs to cancel");
        }
        const r = await this.self<"Ok" | { Err: string }>({ Cancel: { id } });
        if (r !== "Ok") throw new HttpError(this.transfers.get(id) ? 409 : 404, `${r.Err}: ${id}`);
        return { status: 200, body: { transfer: this.transfers.get(id) } };
      }
      case "retry":
        want("POST");
        return { status: 200, body: { transfer: await this.retry(transferId(jsonBody(req).id)) } };
      case "allow": {
        if (req.method === "GET") return { status: 200, body: await this.self({ AllowList: null }).then(allowOf) };
        want("POST");
        const b = jsonBody(req);
        const node = b.node === "*" ? "*" : nodeName(b.node);
        const r = await this.self({ [b.allow === false ? "Disallow" : "Allow"]: { node, action: b.action } });
        return { status: 200, body: allowOf(r) };
      }
      case "upload":
        if (req.method !== "PUT" && req.method !== "POST") throw new HttpError(405, "upload wants PUT or POST");
        return { status: 201, body: await this.upload(req, cleanName(q.name), q.overwrite === "1") };
      case "file": {
        want("GET");
        const name = cleanName(q.name);
        const m = await vfs.metadata(`${this.drive}/${name}`).catch(() => null);
        if (!m || m.file_type !== "File") throw new HttpError(404, `no file named ${name} here`);
        const base = name.slice(name.lastIndexOf("/") + 1);
        sendFileResponse(
          200,
          {
            "content-type": "application/octet-stream",
            "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(base)}`,
          },
          `${this.drive}/${name}`,
          msg,
        );
        return { status: 200 };
      }
      case "push": {
        want("POST");
        const b = jsonBody(req);
        const node = nodeName(b.node);
        if (node === this.me.node) throw new HttpError(400, `${node} is this node: push to another node`);
        await this.known(node);
        const r = await this.self<{ Push?: { Err?: string }; Err?: string }>({
          Push: { name: cleanName(b.name), target: node },
        }, 30);
        const err = r.Err ?? r.Push?.Err;
        if (err !== undefined) throw new HttpError(pushStatus(err), err);
        return { status: 202, body: { pushed: cleanName(b.name), node } };
      }
      case "delete": {
        want("POST");
        const name = cleanName(jsonBody(req).name);
        const m = await vfs.metadata(`${this.drive}/${name}`).catch(() => null);
        if (!m) throw new HttpError(404, `no file named ${name} here`);
        if (m.file_type === "Directory") await vfs.removeDir(`${this.drive}/${name}`, true);
        else await vfs.removeFile(`${this.drive}/${name}`);
        return { status: 200, body: { deleted: name } };
      }
      default:
        throw new HttpError(404, `no API ${path}`);
    }
  }

  /** This node's files under `folder`: `more` when the listing stopped at its bound. */
  private async list(folder: string): Promise<{ files: FileInfo[]; more?: true }> {
    if (folder) {
      const m = await vfs.metadata(`${this.drive}/${folder}`).catch(() => null);
      if (m?.file_type !== "Directory") throw new HttpError(404, `no folder named ${folder} here`);
    }
    const { files, more } = await listFiles(this.drive, folder);
    return { files, ...(more ? { more: true as const } : {}) };
  }

  private async remote(node: string, folder: string) {
    await this.known(node);
    let r: { ListFiles?: unknown; Err?: string; more?: unknown };
    try {
      r = await ask(mainAddress(this.me, node), { ListFiles: { path: folder } });
    } catch (e) {
      throw new HttpError(504, (e as Error).message);
    }
    if (r.Err !== undefined) throw new HttpError(403, r.Err);
    if (!Array.isArray(r.ListFiles)) throw new HttpError(502, `${node} answered something that is not a listing`);
    return { files: r.ListFiles, ...(r.more === true ? { more: true } : {}) };
  }

  private async known(node: string) {
    const unknown = await nodeRefusal(node);
    if (unknown) throw new HttpError(404, unknown, "unknown");
  }

  /**
   * Tries a download again, as the terminal's `transfers resume ID` does: an
   * interrupted or failed one resumes, a cancelled one starts afresh (in the
   * same row), each checked as a new download is.
   */
  private async retry(id: string) {
    const t = this.transfers.get(id);
    if (!t) throw new HttpError(404, `no such transfer: ${id}`);
    const r = await this.self<{ Err?: string; check?: DownloadCheck }>({ Resume: { id } });
    if (r.check) throw checkError(r.check);
    if (r.Err !== undefined) throw new HttpError(409, r.Err);
    return this.transfers.get(id);
  }

  /** The request's body becomes `name` in the files drive, all at once (a blob is written atomically, a spooled file renamed). */
  private async upload(req: Req, name: string, overwrite: boolean) {
    const path = `${this.drive}/${name}`;
    const there = await vfs.metadata(path).catch(() => null);
    if (there?.file_type === "Directory") throw new HttpError(409, `${name} is a folder here`);
    if (there && !overwrite) {
      throw new HttpError(409, `${name} exists here (upload with overwrite to replace it)`, "exists");
    }
    const slash = name.lastIndexOf("/");
    if (slash > 0) {
      const parent = await vfs.metadata(`${this.drive}/${name.slice(0, slash)}`).catch(() => null);
      if (parent && parent.file_type !== "Directory") {
        throw new HttpError(409, `${name.slice(0, slash)} is a file here`);
      }
      await vfs.openDir(`${this.drive}/${name.slice(0, slash)}`, true);
    }
    if (req.body_file) await vfs.rename(req.body_file, path);
    else await new vfs.File(path).write(req.body());
    return { name, size: (await vfs.metadata(path)).len };
  }

  /** Sends this process one of its own JSON requests (the terminal's API) and returns the answer. */
  private async self<T = unknown>(body: unknown, seconds = 15): Promise<T> {
    return (await Request.to(String(this.me)).json(body).sendAndAwaitResponse(seconds)).json<T>();
  }

  private flush() {
    if (this.dirty.size === 0) return;
    const updates = [...this.dirty.values()];
    this.dirty.clear();
    if (this.channels.size === 0) return;
    const text = JSON.stringify({ updates });
    for (const c of this.channels) sendWsPush(c, "Text", text);
  }
}

function jsonBody(req: Req): Record<string, unknown> {
  const bytes = req.body();
  if (bytes.length > MAX_JSON) throw new HttpError(413, `a JSON request is at most ${MAX_JSON} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new HttpError(400, "the body is not JSON");
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new HttpError(400, "the body must be a JSON object");
  return v as Record<string, unknown>;
}

function nodeName(v: unknown): string {
  if (typeof v !== "string" || !NODE.test(v)) {
    throw new HttpError(400, `not a node name: ${JSON.stringify(v)?.slice(0, 80)} (e.g. fake2.dev)`);
  }
  return v;
}

function transferId(v: unknown): string {
  if (typeof v !== "string" || !/^[A-Za-z0-9_.:@-]{1,200}$/.test(v)) {
    throw new HttpError(400, "a transfer id is needed");
  }
  return v;
}

/** The HTTP status of a push's refusal, read from its reason (main.ts says them). */
function pushStatus(err: string): number {
  if (/^no file named/.test(err)) return 404;
  if (/ may not /.test(err)) return 403;
  if (/already exists/.test(err)) return 409;
  if (/offline|did not answer/.test(err)) return 504;
  return 400;
}

function allowOf(r: unknown) {
  const a = r as { AllowList?: unknown; Err?: string };
  if (a.Err !== undefined) throw new HttpError(400, a.Err);
  return { allow: a.AllowList };
}

/** The home page tile's icon: a folder with an arrow. */
const ICON = `data:image/svg+xml;base64,${
  btoa(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#4f46e5"/>` +
      `<path d="M14 22a4 4 0 0 1 4-4h9l4 5h15a4 4 0 0 1 4 4v15a4 4 0 0 1-4 4H18a4 4 0 0 1-4-4z" fill="#fff"/>` +
      `<path d="M32 27v12m-5-5 5 5 5-5" stroke="#4f46e5" stroke-width="3.5" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`,
  )
}`;
