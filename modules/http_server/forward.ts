/**
 * A request to a bound path, handed to its process as the book's
 * IncomingHttpRequest (body in the blob), and the process's HttpResponse
 * (body in the blob) turned into the HTTP response. An answer that is not an
 * HttpResponse is a 502 naming the process; no answer within the timeout is
 * a 504; a process that is gone is a 503.
 */
import type { KernelHandle } from "../../runtime/kernel/module.ts";
import { formatAddress, fromUtf8, jsonBytes, type SendError } from "../../runtime/types.ts";
import { HTTP_SERVER } from "../../runtime/api/processes.ts";
import type { HttpResponse, HttpServerRequest, IncomingHttpRequest } from "../../runtime/api/http.ts";
import type { Binding } from "./bindings.ts";
import { openBodyFile, readOrSpool } from "./spool.ts";

export async function forward(
  k: KernelHandle,
  binding: Binding,
  params: Record<string, string>,
  req: Request,
  peer: Deno.NetAddr,
  cookieName: string,
  timeoutSeconds: number,
): Promise<Response> {
  const url = new URL(req.url);
  const body = await readOrSpool(req, k.home, binding.process);
  const headers: Record<string, string> = {};
  req.headers.forEach((v, name) => {
    // The session cookie opens every authenticated path of the node: it is not the app's to see.
    headers[name] = name === "cookie" ? stripCookie(v, cookieName) : v;
  });
  if (headers.cookie === "") delete headers.cookie;
  const incoming: IncomingHttpRequest = {
    source_socket_addr: `${peer.hostname.includes(":") ? `[${peer.hostname}]` : peer.hostname}:${peer.port}`,
    method: req.method,
    url: url.href,
    bound_path: binding.path,
    headers,
    url_params: params,
    query_params: Object.fromEntries(url.searchParams),
  };
  if (body.file) incoming.body_file = body.file.vfs;
  const request: HttpServerRequest = { Http: incoming };
  let km;
  try {
    km = await k.request(HTTP_SERVER, {
      target: formatAddress(k.our, binding.process),
      body: jsonBytes(request),
      blob: { mime: req.headers.get("content-type"), bytes: body.bytes ?? new Uint8Array() },
      timeoutSeconds,
    });
  } catch (e) {
    if (body.file) await Deno.remove(body.file.host).catch(() => {});
    const kind = (e as SendError).kind;
    if (kind === "Timeout") {
      return Response.json({ error: `${binding.process} did not answer within ${timeoutSeconds} s` }, { status: 504 });
    }
    return Response.json({ error: `${binding.process} is not running` }, { status: 503 });
  }
  const inner = "Response" in km.message ? km.message.Response[0] : null;
  let parsed = inner ? parseHttpResponse(inner.body) : "the answer is a request, not a response";
  let file: { file: Deno.FsFile; size: number } | null = null;
  if (typeof parsed !== "string" && parsed.body_file) {
    const opened = await openBodyFile(k.home, binding.process, parsed.body_file);
    if (typeof opened === "string") parsed = opened;
    else file = opened;
  }
  // Opened first: an answer that streams the upload itself still reads it after the unlink.
  if (body.file) await Deno.remove(body.file.host).catch(() => {});
  if (typeof parsed === "string") {
    k.print(1, `http: ${binding.process} answered ${binding.path} with a malformed HttpResponse: ${parsed}`);
    return Response.json({ error: `${binding.process} answered with a malformed HttpResponse: ${parsed}` }, {
      status: 502,
    });
  }
  const out = new Headers();
  for (const [name, value] of Object.entries(parsed.headers)) {
    try {
      out.append(name, value);
    } catch {
      return Response.json({ error: `${binding.process} answered with a malformed header ${JSON.stringify(name)}` }, {
        status: 502,
      });
    }
  }
  const blob = km.lazy_load_blob;
  if (blob?.mime && !out.has("content-type")) out.set("content-type", blob.mime);
  const nullBody = parsed.status === 204 || parsed.status === 304;
  if (file) {
    if (nullBody) file.file.close();
    else out.set("content-length", String(file.size));
    return new Response(nullBody ? null : file.file.readable, { status: parsed.status, headers: out });
  }
  return new Response(nullBody ? null : (blob?.bytes ?? null) as BodyInit | null, {
    status: parsed.status,
    headers: out,
  });
}

/** The HttpResponse in `body`, or why it is not one. */
export function parseHttpResponse(body: Uint8Array): HttpResponse | string {
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(body));
  } catch {
    return "not JSON";
  }
  const r = v as Partial<HttpResponse>;
  if (!r || typeof r !== "object") return "not an object";
  if (!Number.isInteger(r.status) || r.status! < 200 || r.status! > 599) return `status ${r.status} is not 200-599`;
  if (r.headers === undefined || r.headers === null) r.headers = {};
  if (typeof r.headers !== "object" || Array.isArray(r.headers)) return "headers is not an object";
  for (const [name, value] of Object.entries(r.headers)) {
    if (typeof value !== "string") return `header ${name} is not a string`;
  }
  if (r.body_file !== undefined && r.body_file !== null && typeof r.body_file !== "string") {
    return "body_file is not a string";
  }
  return { status: r.status!, headers: r.headers as Record<string, string>, body_file: r.body_file ?? null };
}

function stripCookie(header: string, name: string): string {
  return header.split(";").map((c) => c.trim()).filter((c) => c && !c.startsWith(`${name}=`)).join("; ");
}
