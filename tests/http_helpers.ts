/** A node with tests/fixtures/http_app installed, and the raw and logged-in clients the HTTP tests use. */
import { assertEquals } from "./assert.ts";
import { bootNode, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { appLabel } from "../modules/http_server/origins.ts";

export const APP = "web:http-app:test.os";
export const RIVAL = "rival:http-app:test.os";
export const PASSWORD = "hunter2";

export async function withApp(f: (n: TestNode, base: string) => Promise<void>) {
  const n = await bootNode({ password: PASSWORD });
  try {
    await install(n, `${FIXTURES}http_app`);
    await waitFor("the app's bindings", () => n.http.wsBindings.has(`/${APP}/open-ws`));
    await f(n, `http://127.0.0.1:${n.port}`);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
}

/** Logs in and returns the session cookie ("name=value"). */
export async function logIn(base: string, password = PASSWORD): Promise<string> {
  const r = await fetch(`${base}/login`, {
    method: "POST",
    body: new URLSearchParams({ password, redirect: "/" }),
    redirect: "manual",
  });
  await r.body?.cancel();
  assertEquals(r.status, 303);
  return r.headers.getSetCookie()[0].split(";")[0];
}

/**
 * The cookie `process`'s own origin gets for a browser logged in with `cookie`: the node's /login hands
 * off to `<label>.localhost:PORT/session`, which sets it (sent here as a raw request, Host and all).
 */
export async function appSession(base: string, cookie: string, process: string, path: string): Promise<string> {
  const r = await fetch(`${base}/login?redirect=${encodeURIComponent(path)}`, {
    headers: { cookie },
    redirect: "manual",
  });
  await r.body?.cancel();
  assertEquals(r.status, 302);
  const to = new URL(r.headers.get("location")!);
  assertEquals(to.hostname, `${appLabel(process)}.localhost`);
  const land = await raw(
    Number(to.port),
    `GET ${to.pathname}${to.search} HTTP/1.1\r\nHost: ${to.host}\r\nConnection: close\r\n\r\n`,
  );
  assertEquals(land.status, 303, land.text);
  return /set-cookie: ([^;]+)/i.exec(land.text)![1];
}

/** Sends `text` on a fresh connection and reads until the node closes it (or `ms` pass). */
export async function raw(
  port: number,
  text: string | Uint8Array,
  ms = 3000,
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunks: Uint8Array[] = [];
  const timer = setTimeout(() => conn.close(), ms);
  try {
    await conn.write(typeof text === "string" ? new TextEncoder().encode(text) : text);
    const buf = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
  const t = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return { status: Number(t.split(" ")[1]), text: t };
}
