/**
 * The App Store's page (ui/, on the app's own origin) and its JSON API under /api, which relays to chain and
 * downloads and acts through the Installer. Only our node's http-server reaches it.
 *
 *   GET  api/apps                  the apps on chain (chain:app-store:sys's GetApps), each with what we have of it
 *   GET  api/app?id=               one app: its metadata, versions we hold, mirroring, installed version
 *   GET  api/installed             My Apps: installed, updates waiting, auto-update
 *   GET  api/downloads             downloads in flight and ended
 *   POST api/download {id, version_hash?, mirrors?}  fetch a version (default: the chain's current one, its mirrors)
 *   POST api/consent {id, version_hash}              what the version asks for (and beyond what was granted)
 *   POST api/install {id, version_hash, approve}     install, granting exactly the lines approved
 *   POST api/uninstall {id}   POST api/mirror {id, on}   POST api/auto-update {id, on}
 */
import {
  addToHomepage,
  bindHttpPath,
  HTTP_SERVER,
  httpServerRequest,
  incomingHttpRequest,
  type Message,
  type ProcessAddress,
  Request,
  sendResponse,
  serveUi,
} from "@hyperdeno/process_lib";
import type { OnchainMetadata, PackageId } from "../api/types.ts";
import { BadRequest, currentHash, idString, mirrorsOf, parseIdString, versionHash } from "../api/ids.ts";
import { type Installer, NotDownloaded } from "./installer.ts";

const API = [
  "apps",
  "app",
  "installed",
  "downloads",
  "download",
  "consent",
  "install",
  "uninstall",
  "mirror",
  "auto-update",
];
const JSON_TYPE = { "content-type": "application/json" };

export interface DownloadView {
  id: string;
  version_hash: string;
  downloaded: number;
  total: number;
  mirror: string | null;
  status: "downloading" | "done" | "failed";
  error: string | null;
  tries: [string, string][];
  /** Where the last attempt started: over 0 when it resumed a partial file. */
  resumed_from: number;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class Web {
  readonly downloads = new Map<string, DownloadView>();

  constructor(private me: ProcessAddress, private installer: Installer) {}

  async start() {
    await serveUi("ui", true, false, ["/"]);
    for (const p of API) await bindHttpPath(`/api/${p}`, true, false);
    this.refreshTile();
  }

  /** The home page's tile and widget: what is installed, and updates waiting. */
  refreshTile() {
    const all = [...this.installed()];
    const updates = all.filter((i) => i.pending).length;
    const rows = all.slice(0, 6).map((i) => `<li>${esc(i.id)}${i.pending ? " · update" : ""}</li>`).join("");
    const widget = `<html><body style="font-family:sans-serif;margin:8px"><b>App Store</b>` +
      `<p>${all.length} installed${updates ? `, ${updates} update${updates > 1 ? "s" : ""} waiting` : ""}</p>` +
      `<ul style="padding-left:16px;margin:0">${rows}</ul></body></html>`;
    addToHomepage("App Store", ICON, "/", widget);
  }

  owns(msg: Message): boolean {
    return msg.source.node === this.me.node && msg.source.process === HTTP_SERVER && httpServerRequest(msg) !== null;
  }

  async handle(msg: Message) {
    const req = incomingHttpRequest(msg);
    if (!req) return;
    try {
      const body = await this.api(req.path().replace(/^\/api\//, ""), req.method, req.query_params, msg);
      sendResponse(200, JSON_TYPE, JSON.stringify(body), msg);
    } catch (e) {
      const status = e instanceof HttpError
        ? e.status
        : e instanceof BadRequest
        ? 400
        : e instanceof NotDownloaded
        ? 404
        : 500;
      sendResponse(status, JSON_TYPE, JSON.stringify({ error: (e as Error).message }), msg);
    }
  }

  private async api(path: string, method: string, q: Record<string, string>, msg: Message): Promise<unknown> {
    const get = method === "GET";
    if (!get && method !== "POST") throw new HttpError(405, `use GET or POST, not ${method}`);
    if (get) {
      if (path === "apps") return await this.apps();
      if (path === "app") return await this.app(parseIdString(q.id ?? ""));
      if (path === "installed") return [...this.installed()];
      if (path === "downloads") return [...this.downloads.values()];
      throw new HttpError(405, `${path} wants POST`);
    }
    const b = bodyOf(msg);
    const p = parseIdString(String(b.id ?? ""));
    if (path === "download") return await this.download(p, b);
    if (path === "consent") return await this.installer.consent(p, versionHash(b.version_hash));
    if (path === "install") {
      if (!Array.isArray(b.approve)) {
        throw new BadRequest("approve: the lines of the consent dialog the owner approved");
      }
      const hash = versionHash(b.version_hash);
      const meta = (await this.chainApp(p).catch(() => null))?.metadata ?? null;
      try {
        await this.installer.install(p, hash, meta, b.approve.map(String));
      } catch (e) {
        throw new HttpError(409, (e as Error).message);
      }
      this.refreshTile();
      return { installed: idString(p), version_hash: hash };
    }
    if (path === "uninstall") {
      await this.installer.uninstall(p);
      this.refreshTile();
      return { uninstalled: idString(p) };
    }
    if (path === "mirror") {
      const on = Boolean(b.on);
      await this.ask("downloads", { [on ? "StartMirroring" : "StopMirroring"]: p });
      return { id: idString(p), mirroring: on };
    }
    if (path === "auto-update") {
      const i = this.installer.installed.get(idString(p));
      if (!i) throw new HttpError(404, `${idString(p)} is not installed from the store`);
      i.auto_update = Boolean(b.on);
      await this.installer.save();
      // chain watches for new versions of the apps that auto-update; without it, nothing comes (and nothing breaks).
      await this.ask("chain", { [i.auto_update ? "StartAutoUpdate" : "StopAutoUpdate"]: p }).catch(() => null);
      return { id: idString(p), auto_update: i.auto_update };
    }
    throw new HttpError(404, `no API at ${path}`);
  }

  private *installed() {
    for (const [id, i] of this.installer.installed) {
      yield {
        id,
        version_hash: i.version_hash,
        version: i.metadata?.properties?.current_version ?? null,
        name: i.metadata?.name ?? null,
        auto_update: i.auto_update,
        granted: i.granted,
        pending: i.pending ?? null,
      };
    }
  }

  private async download(p: PackageId, b: Record<string, unknown>) {
    let hash = b.version_hash === undefined ? null : versionHash(b.version_hash);
    let mirrors = Array.isArray(b.mirrors) ? b.mirrors.map(String) : null;
    if (!hash || !mirrors) {
      const app = await this.chainApp(p);
      const meta = app?.metadata;
      if (!meta) throw new HttpError(404, `${idString(p)} has no verified metadata on chain: is it published?`);
      hash ??= currentHash(meta);
      mirrors ??= mirrorsOf(meta, p.publisher_node);
      if (!hash) throw new HttpError(404, `${idString(p)}'s metadata names no code hash for its current version`);
    }
    const [first, ...rest] = mirrors;
    if (!first) throw new BadRequest("mirrors: at least one node to download from");
    this.downloads.set(`${idString(p)}/${hash}`, {
      id: idString(p),
      version_hash: hash,
      downloaded: 0,
      total: 0,
      mirror: first,
      status: "downloading",
      error: null,
      tries: [],
      resumed_from: 0,
    });
    await this.ask("downloads", {
      LocalDownload: { package_id: p, download_from: first, desired_version_hash: hash, mirrors: rest },
    });
    return { id: idString(p), version_hash: hash, mirrors };
  }

  private async apps() {
    const r = await this.ask("chain", "GetApps").catch(() => null) as { GetApps?: unknown[] } | null;
    return { apps: r?.GetApps ?? [], chain: r !== null };
  }

  private async chainApp(p: PackageId): Promise<{ metadata?: OnchainMetadata | null } | null> {
    const r = await this.ask("chain", { GetApp: p }) as { GetApp?: { metadata?: OnchainMetadata | null } | null };
    return r?.GetApp ?? null;
  }

  private async app(p: PackageId) {
    const id = idString(p);
    const onChain = await this.chainApp(p).catch(() => null);
    const files = await this.ask("downloads", { GetFiles: p }).catch(() => null) as { GetFiles?: unknown[] } | null;
    const dirs = await this.ask("downloads", { GetFiles: null }).catch(() => null) as
      | { GetFiles?: { Dir?: { name: string; mirroring: boolean } }[] }
      | null;
    const mirroring = dirs?.GetFiles?.some((e) => e.Dir?.name === id && e.Dir.mirroring) ?? false;
    return {
      id,
      app: onChain,
      installed: [...this.installed()].find((i) => i.id === id) ?? null,
      files: files?.GetFiles ?? [],
      mirroring,
    };
  }

  private async ask(process: "chain" | "downloads", body: unknown): Promise<unknown> {
    const r = await Request.to(`${this.me.node}@${process}:app-store:sys`).json(body).sendAndAwaitResponse(15);
    return r.json<unknown>();
  }
}

function bodyOf(msg: Message): Record<string, unknown> {
  const bytes = msg.blob()?.bytes;
  if (!bytes || bytes.length > 64 * 1024) throw new BadRequest("a JSON object body (under 64 KiB) is needed");
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch { /* below */ }
  throw new BadRequest("the body must be a JSON object");
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const ICON = "data:image/svg+xml;base64," +
  btoa(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect x="3" y="6" width="18" height="15" rx="2" ` +
      `fill="#3b82f6"/><path d="M8 6a4 4 0 0 1 8 0" stroke="#3b82f6" stroke-width="2" fill="none"/></svg>`,
  );
