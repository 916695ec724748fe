/**
 * Kino Files' JSON API, called with fetch as the page calls it, on two real
 * nodes: upload (small bodies as a blob, bodies over 64 MiB spooled and
 * renamed into the drive), list here and on another node, download, cancel
 * and retry, the allow-list; and bad input (traversal names, unknown nodes,
 * garbage JSON, wrong methods) answered with a clear 4xx while the node
 * keeps serving.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { inject, waitFor } from "../runtime/testing.ts";
import { logIn } from "./http_helpers.ts";
import { bootFt, exists, filePath, FT, putFile, randomBytes, sha256 } from "./ft_helpers.ts";
import type { FileInfo, TransferCounts, TransferView } from "../packages/file-transfer/api/types.ts";

const PASSWORD = "secret"; // bootNet's nodes keep the default

/** A logged-in client of one node's Kino Files API. */
async function client(port: number) {
  const base = `http://127.0.0.1:${port}`;
  const cookie = await logIn(base, PASSWORD);
  const call = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(`${base}/${FT}/api/${path}`, { ...init, headers: { cookie, ...init.headers } });
    const text = await r.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: r.status, body, text };
  };
  return {
    base,
    get: (path: string) => call(path),
    post: (path: string, body: unknown) =>
      call(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) }),
    put: (path: string, body: BodyInit) => call(path, { method: "PUT", body }),
  };
}

async function transferOf(c: Awaited<ReturnType<typeof client>>, id: string): Promise<TransferView | undefined> {
  return ((await c.get("transfers")).body.transfers as TransferView[]).find((t) => t.id === id);
}

async function untilStatus(c: Awaited<ReturnType<typeof client>>, id: string, status: string, ms = 60_000) {
  let t: TransferView | undefined;
  await waitFor(`transfer ${id} to be ${status}`, async () => (t = await transferOf(c, id))?.status === status, ms)
    .catch((e) => {
      throw new Error(`${e.message}; it is ${JSON.stringify(t)}`);
    });
}

Deno.test({
  name: "ftui api: upload, list here and there, download, cancel, retry, allow-list, and bad input refused",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const net = await bootFt();
    try {
      const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
      for (const n of [a, b]) await waitFor("the web bindings", () => n.http.wsBindings.has(`/${FT}/ws`), 120_000);
      const ca = await client(a.port);
      const cb = await client(b.port);

      // Without the session: 401, nothing else.
      assertEquals((await fetch(`${ca.base}/${FT}/api/files`)).status, 401);
      const anon = await fetch(`${ca.base}/${FT}/api/upload?name=x.bin`, { method: "PUT", body: "x" });
      assertEquals(anon.status, 401);
      assertEquals(await exists(filePath(a, "x.bin")), false);

      // Upload a few MiB (a blob) into a folder that does not exist yet.
      const small = randomBytes(3 * 2 ** 20 + 5) as Uint8Array<ArrayBuffer>;
      let r = await ca.put("upload?name=docs/report.bin", small);
      assertEquals(r.status, 201, r.text);
      assertEquals(r.body, { name: "docs/report.bin", size: small.length });
      assertEquals(await sha256(await Deno.readFile(filePath(a, "docs/report.bin"))), await sha256(small));
      // The same name again is refused unless replacing is asked for.
      r = await ca.put("upload?name=docs/report.bin", "other");
      assertEquals(r.status, 409);
      assertMatch(String(r.body.error), /exists here/);
      r = await ca.put("upload?name=note.txt", "first");
      r = await ca.put("upload?name=note.txt&overwrite=1", "second");
      assertEquals(r.status, 201);
      assertEquals(await Deno.readTextFile(filePath(a, "note.txt")), "second");

      // Over 64 MiB: the body reaches the process as a spooled file, renamed into the drive; no copy left in tmp.
      const big = randomBytes(80 * 2 ** 20 + 3) as Uint8Array<ArrayBuffer>;
      r = await ca.put("upload?name=big.bin", big);
      assertEquals(r.status, 201, r.text);
      assertEquals(r.body.size, big.length);
      assertEquals(await sha256(await Deno.readFile(filePath(a, "big.bin"))), await sha256(big));
      const spool = `${a.opts.home}/vfs/file-transfer:template.os/tmp/http-in`;
      const left = await Array.fromAsync(Deno.readDir(spool)).catch(() => []);
      assertEquals(left.length, 0, "no spooled body left behind");

      // Traversal and other bad names: 400, nothing written outside the drive.
      for (const name of ["../escape.bin", "docs/../../escape.bin", "..", "a\\b", "", "x\u0001y"]) {
        r = await ca.put(`upload?name=${encodeURIComponent(name)}`, "evil");
        assertEquals(r.status, 400, `${JSON.stringify(name)}: ${r.text}`);
        assert(typeof r.body.error === "string" && r.body.error.length > 0);
      }
      assertEquals(await exists(`${a.opts.home}/vfs/file-transfer:template.os/escape.bin`), false);
      assertEquals(await exists(`${a.opts.home}/vfs/escape.bin`), false);
      // An absolute name is taken as relative to the drive.
      r = await ca.put(`upload?name=${encodeURIComponent("/etc/hosts")}`, "inside");
      assertEquals(r.body.name, "etc/hosts");
      assertEquals(await Deno.readTextFile(filePath(a, "etc/hosts")), "inside");
      assertEquals((await ca.post("delete", { name: "etc" })).status, 200);

      // This node's listing, with folders and sizes.
      r = await ca.get("files");
      assertEquals(r.status, 200);
      assertEquals(r.body.node, "fake.dev");
      const mine = r.body.files as FileInfo[];
      assertEquals(mine.find((f) => f.name === "docs")?.is_dir, true);
      assertEquals(mine.find((f) => f.name === "docs")?.size, small.length);
      assertEquals(mine.find((f) => f.name === "docs/report.bin")?.size, small.length);
      assertEquals((await ca.get("files?path=docs")).body.files, [{ name: "docs/report.bin", size: small.length }]);
      assertEquals((await ca.get("files?path=nothere")).status, 404);
      assertEquals((await ca.get("files?path=..")).status, 400);

      // Another node's listing, looked up by name.
      r = await cb.get("remote?node=fake.dev");
      assertEquals(r.status, 200, r.text);
      assert((r.body.files as FileInfo[]).some((f) => f.name === "big.bin" && f.size === big.length));
      r = await cb.get("remote?node=nobody.dev");
      assertEquals(r.status, 404);
      assertMatch(String(r.body.error), /no node named nobody\.dev/);
      r = await cb.get(`remote?node=${encodeURIComponent("Not A Name!")}`);
      assertEquals(r.status, 400);
      assertEquals((await cb.get("remote")).status, 400);

      // Download through the API: the bytes arrive in fake2.dev's drive.
      r = await cb.post("download", { node: "fake.dev", name: "docs/report.bin" });
      assertEquals(r.status, 202, r.text);
      const id = (r.body.transfer as TransferView).id;
      await untilStatus(cb, id, "done");
      assertEquals(await sha256(await Deno.readFile(filePath(b, "docs/report.bin"))), await sha256(small));
      // Counted: done since the process started, nothing open now.
      const counts = (await cb.get("counts")).body.counts as TransferCounts;
      assertEquals([counts.download.done, counts.download.active, counts.download.pending], [1, 0, 0]);
      // fake.dev saw the upload side of it.
      assert(((await ca.get("transfers")).body.transfers as TransferView[]).some((t) => t.direction === "upload"));

      // Cancel a download in flight, then retry it (a cancelled download starts afresh) to the end.
      const huge = filePath(a, "huge.bin");
      await Deno.writeFile(huge, new Uint8Array());
      await Deno.truncate(huge, 768 * 2 ** 20);
      r = await cb.post("download", { node: "fake.dev", name: "huge.bin" });
      assertEquals(r.status, 202);
      const hid = (r.body.transfer as TransferView).id;
      r = await cb.post("cancel", { id: hid });
      assertEquals(r.status, 200, r.text);
      assertEquals((r.body.transfer as TransferView).status, "cancelled");
      assertEquals(await exists(filePath(b, "huge.bin")), false);
      assertEquals((await cb.post("cancel", { id: hid })).status, 409, "a cancelled transfer cannot be cancelled");
      r = await cb.post("retry", { id: hid });
      assertEquals(r.status, 200, r.text);
      const again = (r.body.transfer as TransferView).id;
      await untilStatus(cb, again, "done", 120_000);
      assertEquals((await Deno.stat(filePath(b, "huge.bin"))).size, 768 * 2 ** 20);

      // A file that is not there: refused at once, saying so, and no transfer row appears.
      const before = ((await cb.get("transfers")).body.transfers as TransferView[]).length;
      r = await cb.post("download", { node: "fake.dev", name: "missing.bin" });
      assertEquals(r.status, 404, r.text);
      assertEquals(r.body.code, "missing");
      assertEquals(r.body.error, "fake.dev has no file named missing.bin");
      assertEquals(((await cb.get("transfers")).body.transfers as TransferView[]).length, before);

      // Bad input to download, cancel and retry.
      for (
        const [body, status] of [
          ["{not json", 400],
          ["[1,2]", 400],
          [{ node: "fake.dev", name: "../../etc/passwd" }, 400],
          [{ node: "fake.dev" }, 400],
          [{ node: "nobody.dev", name: "x" }, 404],
          [{ node: 5, name: "x" }, 400],
          [{ node: "fake2.dev", name: "x" }, 400],
        ] as const
      ) {
        r = await cb.post("download", body);
        assertEquals(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
        assert(typeof r.body.error === "string", r.text);
      }
      assertEquals((await cb.post("cancel", { id: "nope" })).status, 404);
      assertEquals((await cb.post("cancel", "garbage")).status, 400);
      assertEquals((await cb.post("retry", { id: 42 })).status, 400);
      assertEquals((await cb.post("retry", { id: id })).status, 409, "a finished download is not retried");
      assertEquals((await cb.get("download")).status, 405);
      assertEquals((await cb.post("files", {})).status, 405);
      assertEquals((await cb.post("download", "x".repeat(70_000))).status, 413);

      // Another node posing as our HTTP server (its own http-server:distro:sys sends the Http variant) gains nothing.
      const forged = (method: string, api: string) => ({
        Http: {
          source_socket_addr: "127.0.0.1:1",
          method,
          url: `http://localhost/${FT}/api/${api}`,
          bound_path: `/${FT}/api/${api.split("?")[0]}`,
          headers: {},
          url_params: {},
          query_params: Object.fromEntries(new URLSearchParams(api.split("?")[1] ?? "")),
        },
      });
      const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
      const heard = await inject(b, FT, forged("POST", "allow"), {
        nodeName: "fake.dev",
        blob: enc({ node: "*", action: "push" }),
      });
      assertMatch(String(heard.body), /unknown request/, "fake.dev heard it and took it for no HTTP request");
      await inject(b, FT, forged("PUT", "upload?name=forged.txt"), { nodeName: "fake.dev", blob: enc("x") });
      await inject(b, FT, forged("POST", "delete"), { nodeName: "fake.dev", blob: enc({ name: "big.bin" }) });
      assertEquals(await exists(filePath(a, "forged.txt")), false);
      assertEquals(await exists(filePath(a, "big.bin")), true);

      // The allow-list: fake.dev stops letting anyone list; fake2.dev hears a refusal it can act on.
      r = await ca.get("allow");
      assertEquals(r.body.allow, { list: ["*"], download: ["*"], push: [] });
      r = await ca.post("allow", { node: "*", action: "list", allow: false });
      assertEquals((r.body.allow as Record<string, string[]>).list, []);
      r = await cb.get("remote?node=fake.dev");
      assertEquals(r.status, 403);
      assertMatch(String(r.body.error), /fake2\.dev may not list files on fake\.dev/);
      r = await ca.post("allow", { node: "fake2.dev", action: "list" });
      assertEquals((r.body.allow as Record<string, string[]>).list, ["fake2.dev"]);
      assertEquals((await cb.get("remote?node=fake.dev")).status, 200);
      assertEquals((await ca.post("allow", { node: "../x", action: "list" })).status, 400);
      r = await ca.post("allow", { node: "fake2.dev", action: "root" });
      assertEquals(r.status, 400);
      assertMatch(String(r.body.error), /list, download or push/);

      // Delete, and a wrong API path.
      assertEquals((await ca.post("delete", { name: "note.txt" })).status, 200);
      assertEquals(await exists(filePath(a, "note.txt")), false);
      assertEquals((await ca.post("delete", { name: "note.txt" })).status, 404);

      // After all that, both nodes still serve.
      assertEquals((await ca.get("files")).status, 200);
      assertEquals((await cb.get("transfers")).status, 200);
      await putFile(a, "later.txt", new TextEncoder().encode("still here"));
      assert(((await cb.get("remote?node=fake.dev")).body.files as FileInfo[]).some((f) => f.name === "later.txt"));
    } finally {
      await net.close();
    }
  },
});
