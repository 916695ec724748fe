/**
 * The local endpoints the CLI uses: POST /rpc:distro:sys/message (inject-message),
 * /rpc:distro:sys/install (start-package), /rpc:distro:sys/vfs-root (where the node keeps
 * its drives, so `get` on the same machine reads a file it verified from the disk instead of
 * through the app) and, on the dev chain, /rpc:distro:sys/publish
 * (publish -p: the node writes its own App Store notes). They act with the node's
 * authority, so only a loopback peer that passes local_only.ts gets in, and a
 * browser (one that says where the request comes from) only from the node's
 * own origin, with the node's session and its page token.
 */
import type { KernelHandle } from "../../runtime/kernel/module.ts";
import { parseAddress, ParseError, parseProcessId, type SendError, utf8 } from "../../runtime/types.ts";
import { decodeBase64, encodeBase64 } from "../../runtime/bytes.ts";
import { HTTP_SERVER } from "../../runtime/api/processes.ts";
import { HttpError } from "../../runtime/sockets/http1.ts";
import { checkJsonShape, checkLocalCaller } from "./local_only.ts";
import { readLimited } from "./body.ts";
import type { NodePublishRequest } from "../../chain/app_publish.ts";

/** The largest request body the local endpoints accept: room for a real package's files, base64-encoded. */
export const MAX_BODY = 64 * 1024 * 1024;
/** The header a node page's script would send its page token in (auth.ts pageToken). */
export const PAGE_TOKEN_HEADER = "x-hyperdeno-page-token";

export interface Installer {
  (packageId: string, files: Record<string, Uint8Array>): unknown;
}

/** Publishes an app as this node (chain/app_publish.ts publishAsNode); null off the dev chain. */
export type DevPublisher = (r: NodePublishRequest) => Promise<unknown>;

export function isLoopback(peer: Deno.NetAddr): boolean {
  const h = peer.hostname;
  return h === "127.0.0.1" || h === "::1" || h === "::ffff:127.0.0.1" || h.startsWith("127.");
}

export async function localEndpoint(
  k: KernelHandle,
  install: Installer,
  port: number,
  req: Request,
  peer: Deno.NetAddr,
  prove: () => void,
  ownPage: () => Promise<boolean>,
  publish: DevPublisher | null = null,
): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (!isLoopback(peer)) throw new HttpError(403, "this endpoint answers only on localhost");
  if (req.method !== "POST") throw new HttpError(405, "use POST");
  checkLocalCaller(req.headers, port);
  if ((req.headers.has("origin") || req.headers.has("sec-fetch-site")) && !await ownPage()) {
    throw new HttpError(
      403,
      `a browser page may call ${path} only from the node's own pages, logged in, with the session's ${PAGE_TOKEN_HEADER}`,
    );
  }
  const bytes = await readLimited(
    req,
    MAX_BODY,
    "the local endpoints (MAX_BODY in modules/http_server/rpc.ts)",
  );
  // The whole request is in: from here on the connection waits for us, not the other way round.
  prove();
  let body: Record<string, unknown>;
  try {
    checkJsonShape(bytes);
    body = JSON.parse(new TextDecoder().decode(bytes));
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new ParseError("expected a JSON object");
  } catch (e) {
    throw new HttpError(400, `bad JSON: ${(e as Error).message}`);
  }
  try {
    if (path === "/rpc:distro:sys/message") return await inject(k, body);
    if (path === "/rpc:distro:sys/install") return Response.json(await installFrom(install, body));
    if (path === "/rpc:distro:sys/publish") return await publishFrom(publish, body);
    if (path === "/rpc:distro:sys/vfs-root") return Response.json({ root: `${k.home}/vfs` });
  } catch (e) {
    if (e instanceof ParseError) throw new HttpError(400, e.message);
    throw e;
  }
  throw new HttpError(404, `nothing at ${path}`);
}

/**
 * POST /rpc:distro:sys/message
 * {"process": "p:pkg:pub", "node": null, "body": "<text>", "blob": base64|null,
 *  "mime": null, "expects_response": seconds|null}
 * → {"body": "<text>", "blob": base64|null, "mime": ...} or {"error": "Offline"|"Timeout"|...}
 */
async function inject(k: KernelHandle, b: Record<string, unknown>): Promise<Response> {
  if (typeof b.process !== "string") throw new ParseError("process must be a process id string");
  parseProcessId(b.process);
  const node = typeof b.node === "string" && b.node ? b.node : k.our;
  const target = `${node}@${b.process}`;
  parseAddress(target);
  if (typeof b.body !== "string") throw new ParseError("body must be a string");
  const expects = b.expects_response == null ? null : Number(b.expects_response);
  if (expects !== null && !(expects > 0)) throw new ParseError("expects_response must be seconds > 0 or null");
  const blob = typeof b.blob === "string"
    ? { mime: typeof b.mime === "string" ? b.mime : null, bytes: decodeBase64(b.blob) }
    : null;
  if (expects === null) {
    const message = {
      Request: { inherit: false, expects_response: null, body: utf8(b.body), metadata: null, capabilities: [] },
    };
    k.send(HTTP_SERVER, { target, message, blob });
    return Response.json({ sent: true });
  }
  try {
    const km = await k.request(HTTP_SERVER, { target, body: utf8(b.body), blob, timeoutSeconds: expects });
    const inner = "Response" in km.message ? km.message.Response[0] : km.message.Request;
    return Response.json({
      body: new TextDecoder().decode(inner.body),
      blob: km.lazy_load_blob ? encodeBase64(km.lazy_load_blob.bytes) : null,
      mime: km.lazy_load_blob?.mime ?? null,
    });
  } catch (e) {
    const kind = (e as SendError).kind;
    return Response.json({ error: kind, target }, { status: kind === "Timeout" ? 504 : 502 });
  }
}

/**
 * POST /rpc:distro:sys/publish {"publisher", "package_name", "metadata_uri", "metadata_hash", "unpublish"}
 * → {"kind": "mint"|"update"|"unpublish", "block", "hash", "app"} or 409 {"error": "<one line>"}
 */
async function publishFrom(publish: DevPublisher | null, b: Record<string, unknown>): Promise<Response> {
  if (!publish) {
    throw new HttpError(404, "this node publishes only on the dev chain: pass --keystore-path and --rpc instead");
  }
  const { publisher, package_name, metadata_uri, metadata_hash, unpublish } = b;
  for (const v of [publisher, package_name, metadata_uri, metadata_hash]) {
    if (typeof v !== "string") {
      throw new ParseError("publisher, package_name, metadata_uri and metadata_hash are strings");
    }
  }
  try {
    return Response.json(
      await publish({
        publisher: publisher as string,
        package_name: package_name as string,
        metadata_uri: metadata_uri as string,
        metadata_hash: metadata_hash as string,
        unpublish: unpublish === true,
      }),
    );
  } catch (e) {
    return Response.json({ error: String((e as Error).message).split("\n")[0] }, { status: 409 });
  }
}

/** POST /rpc:distro:sys/install {"package_id": "pkg:pub", "files": {"manifest.json": base64, ...}} */
function installFrom(install: Installer, b: Record<string, unknown>): unknown {
  if (typeof b.package_id !== "string") throw new ParseError("package_id must be a string");
  if (!b.files || typeof b.files !== "object") throw new ParseError("files must be an object of base64 strings");
  const files: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(b.files as Record<string, unknown>)) {
    if (typeof v !== "string") throw new ParseError(`file ${k} must be base64`);
    files[k] = decodeBase64(v);
  }
  return install(b.package_id, files);
}
