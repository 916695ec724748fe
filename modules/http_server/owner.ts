/**
 * The CLI's way into an app's HTTP API: `/rpc:distro:sys/app/<bound path>`
 * reaches the process bound at `<bound path>` as the node's owner would from
 * the browser, without the login cookie (the CLI runs beside its node and
 * knows no password). `hyperdeno send|get|ls` use Kino Files' API through it:
 * uploads stream in (spooled to disk past 64 MiB, as any bound path's body),
 * files stream out (the process's body_file).
 *
 * It grants nothing new: whoever passes it could already install packages and
 * send any process any message through /rpc:distro:sys/message. So it has the
 * same gate: a loopback peer, our own Host, no foreign Origin or cross-site
 * Sec-Fetch-Site, and a header of ours that a web page cannot add unasked
 * (local_only.ts).
 */
import type { ConnEnv, Reply } from "./connection.ts";
import type { HttpServerModule } from "./mod.ts";
import { forward } from "./forward.ts";
import { jsonAnswer } from "./bound.ts";
import { checkOwnerCaller, OWNER_PREFIX } from "./local_only.ts";
import { isLoopback } from "./rpc.ts";

export async function serveForOwner(m: HttpServerModule, env: ConnEnv): Promise<Reply> {
  if (!isLoopback(env.peer)) return jsonAnswer(403, { error: "this endpoint answers only on localhost" });
  checkOwnerCaller(env.head.headers, m.port);
  const path = env.target.pathname.slice(OWNER_PREFIX.length);
  const found = m.bindings.match(path);
  if (!found || found.binding.static) {
    return jsonAnswer(404, { error: `no process has bound ${path}: is its package installed and running?` });
  }
  // A local caller that passed the gate may take its time: a large file on a slow disk outlasts the 30 s a request
  // has to arrive.
  env.slot.proven();
  const target = { ...env.target, pathname: path, href: new URL(env.target.href).origin + path + env.target.search };
  const cookies = [m.login!.cookieName, m.login!.appCookieName];
  return await forward(m.k, found.binding, found.params, { ...env, target }, cookies, m.timeoutSeconds);
}
