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
import type { Answer } from "../../runtime/sockets/http1_stream.ts";
import type { Binding } from "./bindings.ts";
import type { ConnEnv, Reply } from "./connection.ts";
import { jsonAnswer } from "./bound.ts";
import { openBodyFile, readOrSpool } from "./spool.ts";

export async function forward(
  k: KernelHandle,
  binding: Binding,
  params: Record<string, string>,
  env: ConnEnv,
  cookieNames: string[],
  timeoutSeconds: number,
): Promise<Reply> {
  const { head, target, peer } = env;
  const hasBody = env.body?.stream && head.method !== "GET" && head.method !== "HEAD";
  const body = await readOrSpool(
    hasBody ? env.body!.stream : null,
    head.headers.get("content-length"),
    k.home,
    binding.process,
  );
  const headers: Record<string, string> = {};
  head.headers.forEach((v, name) => {
    // Session cookies open authenticated paths: they are not the app's to see.
    headers[name] = name === "cookie" ? stripCookies(v, cookieNames) : v;
  });
  if (headers.cookie === "") delete headers.cookie;
  const incoming: IncomingHttpRequest = {
    source_socket_addr: `${peer.hostname.includes(":") ? `[${peer.hostname}]` : peer.hostname}:${peer.port}`,
    method: head.method,
    url: target.href,
    bound_path: binding.path,
    headers,
    url_params: params,
    query_params: target.search ? Object.fromEntries(new URLSearchParams(target.search)) : {},
  };
  if (body.file) incoming.body_file = body.file.vfs;
  const request: HttpServerRequest = { Http: incoming };
  let km;
  try {
    km = await k.request(HTTP_SERVER, {
      target: formatAddress(k.our, binding.process),
      body: jsonBytes(request),
      blob: { mime: head.headers.get("content-type"), bytes: body.bytes ?? new Uint8Array() },
      timeoutSeconds,
    });
  } catch (e) {
    if (body.file) await Deno.remove(body.file.host).catch(() => {});
    const kind = (e as SendError).kind;
    if (kind === "Timeout") {
      return jsonAnswer(504, { error: `${binding.process} did not answer within ${timeoutSeconds} s` });
    }
    return jsonAnswer(503, { error: `${binding.process} is not running` });
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
    return jsonAnswer(502, { error: `${binding.process} answered with a malformed HttpResponse: ${parsed}` });
  }
  const out = answerHeaders(parsed.headers);
  if (typeof out === "string") {
    file?.file.close();
    return jsonAnswer(502, { error: `${binding.process} answered with a malformed header ${JSON.stringify(out)}` });
  }
  const blob = km.lazy_load_blob;
  if (blob?.mime && !("content-type" in out)) out["content-type"] = blob.mime;
  const nullBody = parsed.status === 204 || parsed.status === 304;
  if (file) {
    const h = new Headers();
    for (const [name, v] of Object.entries(out)) for (const one of typeof v === "string" ? [v] : v) h.append(name, one);
    if (nullBody) file.file.close();
    else h.set("content-length", String(file.size));
    return new Response(nullBody ? null : file.file.readable, { status: parsed.status, headers: h });
  }
  return { status: parsed.status, headers: out, body: nullBody ? null : blob?.bytes ?? null };
}

/** RFC 9110's token: what a header name may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a header value may hold (no CR, LF or NUL: a value cannot start another header). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Framing is the server's to write. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection"]);

/**
 * A process's headers as the web Headers class would take them (names in
 * lower case, values trimmed, names differing only in case joined with ", ",
 * Set-Cookie kept apart), or the first name or value it would refuse.
 */
export function answerHeaders(given: Record<string, string>): Answer["headers"] | string {
  const out: Answer["headers"] = {};
  for (const name in given) {
    const value = given[name].replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) return name;
    const lower = name.toLowerCase();
    if (FRAMING.has(lower)) continue;
    const had = out[lower];
    if (had === undefined) out[lower] = value;
    else if (lower === "set-cookie") out[lower] = [...(typeof had === "string" ? [had] : had), value];
    else out[lower] = `${had}, ${value}`;
  }
  return out;
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

function stripCookies(header: string, names: string[]): string {
  return header.split(";").map((c) => c.trim()).filter((c) => c && !names.some((n) => c.startsWith(`${n}=`)))
    .join("; ");
}
