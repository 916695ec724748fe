/**
 * http-server:distro:sys with real clients: Deno's fetch and WebSocket
 * against a booted node with tests/fixtures/http_app installed.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { bootNode, install, removeHome, type TestNode, waitFor } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

const APP = "web:http-app:test.os";

async function withApp(f: (n: TestNode, base: string) => Promise<void>) {
  const n = await bootNode({ password: "hunter2" });
  try {
    await install(n, `${FIXTURES}http_app`);
    const base = `http://127.0.0.1:${n.port}`;
    await waitFor("the app's bindings", () => n.http.wsBindings.has(`/${APP}/open-ws`));
    await f(n, base);
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
}

/** Logs in and returns the session cookie ("name=value"). */
export async function logIn(base: string, password = "hunter2"): Promise<string> {
  const r = await fetch(`${base}/login`, {
    method: "POST",
    body: new URLSearchParams({ password, redirect: "/" }),
    redirect: "manual",
  });
  await r.body?.cancel();
  assertEquals(r.status, 303);
  return r.headers.getSetCookie()[0].split(";")[0];
}

Deno.test("http: a bound path answers through its process, with url_params and query_params", async () => {
  await withApp(async (_n, base) => {
    const r = await fetch(`${base}/${APP}/api/items/42/name%20x?q=1&r=two`);
    assertEquals(r.status, 200);
    const j = await r.json();
    assertEquals(j.bound_path, `/${APP}/api/items/:id/:part`);
    assertEquals(j.url_params, { id: "42", part: "name x" });
    assertEquals(j.query_params, { q: "1", r: "two" });
    assertEquals(j.method, "GET");
  });
});
