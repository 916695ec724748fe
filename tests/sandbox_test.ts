/** Processes are sandboxed, and misbehaving ones do not hurt the node. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import {
  bootNode,
  inject,
  injectJson,
  install,
  removeHome,
  type TestNode,
  waitFor,
  withNode as withPackages,
} from "../runtime/testing.ts";
import { FIXTURES, PACKAGES } from "./helpers.ts";

const withNode = (f: (n: TestNode) => Promise<void>) => withPackages([`${FIXTURES}misbehave`, `${PACKAGES}ping`], f);

Deno.test("sandbox: a process cannot touch files, network, env, subprocesses or FFI", () =>
  withNode(async (n) => {
    const secret = await Deno.makeTempFile({ suffix: ".js" });
    await Deno.writeTextFile(secret, "export default 'secret';");
    try {
      const r = await injectJson<Record<string, string>>(n, "sandbox:misbehave:test.os", {
        path: secret,
        port: n.port,
      });
      for (const [what, result] of Object.entries(r)) {
        assert(result !== "ALLOWED", `${what} was allowed`);
        assertMatch(
          result,
          /NotCapable|PermissionDenied|Requires|TypeError|ReferenceError: (Deno|fetch) is not defined/,
          what,
        );
      }
      let written = true;
      try {
        await Deno.stat(`${secret}.written`);
      } catch {
        written = false;
      }
      assertEquals(written, false, "no file was written");
    } finally {
      await Deno.remove(secret);
    }
  }));

Deno.test("crash at init: restarts with growing back-off, visible in top, node keeps serving", () =>
  withNode(async (n) => {
    const id = "crasher:misbehave:test.os";
    await waitFor("three restarts", () => n.kernel.status(id).restarts >= 3, 15_000);
    const st = n.kernel.status(id);
    assertMatch(st.last_error ?? "", /crasher fails at init on purpose/);
    assert(
      n.lines.some((l) => /restarting crasher:misbehave:test.os in 1000 ms \(restart 3\)/.test(l)),
      n.lines.join("\n"),
    );
    assertEquals(await injectJson(n, "ping:ping:template.os", "ping"), "pong");
  }));

Deno.test("an endless loop in one process stalls neither the kernel nor other processes", () =>
  withNode(async (n) => {
    assertEquals(await injectJson(n, "ping:ping:template.os", "ping"), "pong", "ping is up before the spin");
    const spin = await inject(n, "looper:misbehave:test.os", "spin", { timeout: null });
    assertEquals(spin.status, 200);
    await new Promise((r) => setTimeout(r, 100));
    // The loop never ends, so any answer came while it ran.
    assertEquals(await injectJson(n, "ping:ping:template.os", "ping"), "pong");
    // Killing a process stuck in a loop works too.
    assertEquals(n.kernel.killProcess("looper:misbehave:test.os"), true);
    assertEquals(n.kernel.status("looper:misbehave:test.os").running, false);
  }));

Deno.test("a process that throws in its loop is restarted and answers again", () =>
  withNode(async (n) => {
    const id = "thrower:misbehave:test.os";
    assertEquals(await injectJson(n, id, "hello"), { starts: 1 });
    const r = await inject(n, id, '"throw"', { timeout: 2 });
    assertEquals(r.error, "Offline", "the request in flight fails when the process dies");
    await waitFor("restart", () => n.kernel.status(id).running && n.kernel.status(id).restarts === 1);
    assertEquals(await injectJson(n, id, "hello"), { starts: 2 });
  }));

Deno.test("a package with a broken manifest is refused with a clear error and nothing changes", async () => {
  const n = await bootNode();
  try {
    await install(n, `${PACKAGES}ping`);
    const bad: [string, Record<string, Uint8Array>, RegExp][] = [
      ["broken:test.os", { "manifest.json": new TextEncoder().encode("[{") }, /not JSON/],
      ["broken:test.os", { "manifest.json": new TextEncoder().encode('{"a":1}') }, /must be a JSON array/],
      [
        "broken:test.os",
        { "manifest.json": new TextEncoder().encode('[{"process_name":"Bad Name"}]') },
        /process_name/,
      ],
      ["broken:test.os", {
        "manifest.json": new TextEncoder().encode('[{"process_name":"x","process_wasm_path":"/x.js"}]'),
      }, /pkg\/x\.js is missing/],
      ["broken:test.os", {
        "manifest.json": new TextEncoder().encode(
          '[{"process_name":"x","process_wasm_path":"/x.js","on_exit":"Often"}]',
        ),
        "x.js": new Uint8Array(),
      }, /on_exit/],
      ["broken:test.os", { "../escape.json": new Uint8Array() }, /bad file path/],
      ["Bad Package", { "manifest.json": new TextEncoder().encode("[]") }, /bad package id/],
    ];
    for (const [pkg, files, re] of bad) {
      const resp = await fetch(`http://127.0.0.1:${n.port}/rpc:distro:sys/install`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          package_id: pkg,
          files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, btoa(String.fromCharCode(...v))])),
        }),
      });
      const body = await resp.json();
      assertEquals(resp.status, 400, JSON.stringify(body));
      assertMatch(body.error, re);
    }
    assertEquals(await injectJson(n, "ping:ping:template.os", "ping"), "pong");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("the local endpoints refuse malformed requests and keep running", async () => {
  const n = await bootNode();
  try {
    const post = (path: string, body: string) =>
      fetch(`http://127.0.0.1:${n.port}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }).then(async (
        r,
      ) => [r.status, await r.json()]);
    assertEquals((await post("/rpc:distro:sys/message", "{not json"))[0], 400);
    assertEquals((await post("/rpc:distro:sys/message", '{"process":"nope","body":"1"}'))[0], 400);
    assertEquals((await post("/rpc:distro:sys/message", '{"process":"a:b:c","body":1}'))[0], 400);
    assertEquals((await post("/rpc:distro:sys/message", '{"process":"a:b:c","body":"1","blob":"%%%"}'))[0], 400);
    assertEquals((await post("/rpc:distro:sys/nothing", "{}"))[0], 404);
    const rnd = crypto.getRandomValues(new Uint8Array(4096));
    const r = await fetch(`http://127.0.0.1:${n.port}/rpc:distro:sys/message`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: rnd,
    });
    assertEquals(r.status, 400);
    await r.body?.cancel();
    assertEquals(await (await fetch(`http://127.0.0.1:${n.port}/our`)).text(), "fake.dev");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});
