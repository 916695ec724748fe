/**
 * main:app-store:sys — install with the owner's consent, uninstall, auto-update, the local API (local_api.ts, kit's
 * start-package and view-api) and the page (web.ts). Downloads tell it how their fetches went; an update that asks
 * for nothing new is installed when the app auto-updates, one that asks for more waits for the owner.
 */
import { getState, type Message, our, println, Request, requests, Response, vfs } from "@hyperdeno/process_lib";
import type { DownloadRequest } from "../api/types.ts";
import { idString, packageId, versionHash } from "../api/ids.ts";
import { type Installed, Installer } from "./installer.ts";
import { isLocalRequest, localRequest } from "./local_api.ts";
import { Web } from "./web.ts";

export default async function init(_our: string) {
  const me = our();
  const unpacked = await vfs.createDrive(me.packageId(), "unpacked");
  const installer = new Installer(me.node, `/${me.packageId()}/files`, unpacked);
  installer.load(loadState());
  const web = new Web(me, installer);
  await web.start();

  const fromDownloads = async (body: DownloadRequest) => {
    if ("Progress" in body) {
      const p = body.Progress;
      const d = web.downloads.get(`${idString(packageId(p.package_id))}/${p.version_hash}`);
      if (d) {
        Object.assign(d, { downloaded: p.downloaded, total: p.total, mirror: p.mirror ?? d.mirror });
        d.resumed_from = p.resumed_from ?? d.resumed_from;
      }
      return;
    }
    if ("DownloadComplete" in body) {
      const c = body.DownloadComplete;
      const id = idString(packageId(c.package_id));
      const d = web.downloads.get(`${id}/${c.version_hash}`);
      if (d) {
        d.status = c.err === null ? "done" : "failed";
        d.error = c.err === null ? null : JSON.stringify(c.err);
        d.tries = c.tries ?? [];
        if (c.from) d.mirror = c.from;
        if (c.err === null) d.downloaded = d.total = Math.max(d.total, d.downloaded);
      }
      println(
        c.err === null
          ? `downloaded ${id} from ${c.from}`
          : `could not download ${id}: ${JSON.stringify(c.err)} (tried ${(c.tries ?? []).map((t) => t[0]).join(", ")})`,
      );
      return;
    }
    if ("AutoDownloadComplete" in body) {
      const a = body.AutoDownloadComplete;
      if ("Err" in a) {
        return println(`auto-update of ${idString(packageId(a.Err.package_id))} failed: no mirror served it`);
      }
      await autoUpdate(packageId(a.Success.package_id), versionHash(a.Success.version_hash));
    }
  };

  /** A new version downloaded for an installed app: installed at once only if it auto-updates and asks nothing new. */
  const autoUpdate = async (p: ReturnType<typeof packageId>, hash: string) => {
    const had = installer.installed.get(idString(p));
    if (!had || had.version_hash === hash) return;
    const c = await installer.consent(p, hash);
    const meta = await chainMetadata(me.node, p);
    if (had.auto_update && c.new_requests!.length === 0) {
      await installer.install(p, hash, meta ?? had.metadata, had.granted);
      println(`auto-updated ${idString(p)} to ${meta?.properties?.current_version ?? hash.slice(0, 12)}`);
    } else {
      had.pending = { version_hash: hash, metadata: meta ?? null, new_requests: c.new_requests! };
      await installer.save();
      println(
        c.new_requests!.length
          ? `an update of ${idString(p)} asks for more: ${c.new_requests!.join("; ")}; approve it in the App Store`
          : `an update of ${idString(p)} is ready: install it in the App Store (My Apps)`,
      );
    }
    web.refreshTile();
  };

  const handle = async (msg: Message) => {
    if (web.owns(msg)) return await web.handle(msg);
    if (msg.source.node !== me.node) return; // remote requests go to downloads, as the reference's do
    const body = json(msg);
    if (isLocalRequest(body)) {
      const [answer, blob] = await localRequest(me.node, installer, body, println);
      if (answer && "InstallResponse" in answer || answer && "UninstallResponse" in answer) web.refreshTile();
      const r = Response.to(msg).json(answer);
      if (blob) r.blobBytes(blob, "application/json");
      return r.send();
    }
    if (msg.source.process.toString() === `downloads:${me.packageId()}` && body && typeof body === "object") {
      return await fromDownloads(body as DownloadRequest);
    }
    if (msg.expectsResponse() !== null) Response.to(msg).json({ Err: "unknown request" }).send();
  };

  for await (const msg of requests(() => {})) {
    handle(msg).catch((e) => {
      println(`app-store: ${(e as Error).message}`);
      if (msg.expectsResponse() !== null) Response.to(msg).json({ Err: (e as Error).message }).send();
    });
  }
}

async function chainMetadata(node: string, p: ReturnType<typeof packageId>) {
  try {
    const r = await Request.to(`${node}@chain:app-store:sys`).json({ GetApp: p }).sendAndAwaitResponse(10);
    return r.json<{ GetApp?: { metadata?: Installed["metadata"] } | null }>().GetApp?.metadata ?? null;
  } catch {
    return null;
  }
}

function loadState(): Installed[] {
  try {
    const s = JSON.parse(new TextDecoder().decode(getState() ?? new Uint8Array()));
    return Array.isArray(s) ? s : [];
  } catch {
    return [];
  }
}

function json(msg: Message): unknown {
  try {
    return msg.json();
  } catch {
    return null;
  }
}
