/** Kernel semantics, exercised by real processes in a booted node. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { inject, injectJson, install, type TestNode, waitFor, withNode as withPackages } from "../runtime/testing.ts";
import { FIXTURES, PACKAGES } from "./helpers.ts";

const HUB = "hub:semantics:test.os";

const withNode = (f: (n: TestNode) => Promise<void>) => withPackages([`${FIXTURES}semantics`], f);

Deno.test("kernel: a request and its response pass between processes", () =>
  withNode(async (n) => {
    assertEquals(await injectJson(n, HUB, { Await: null }), {
      got: JSON.stringify({ worker_saw: "echo", from: `fake.dev@${HUB}` }),
    });
  }));

Deno.test("kernel: an unanswered request comes back as Timeout with its context and body", () =>
  withNode(async (n) => {
    const r = await injectJson<{ kind: string; context: string; body: string; target: string; ms: number }>(n, HUB, {
      Timeout: null,
    });
    assertEquals([r.kind, r.context, r.body, r.target], [
      "Timeout",
      "ctx-1",
      "are you there?",
      "fake.dev@silent:semantics:test.os",
    ]);
    // Not before its 1 s; late on a busy machine, but not some other timeout's.
    assert(r.ms >= 900 && r.ms < 8000, `timeout after ${r.ms} ms`);
  }));

Deno.test("kernel: a response to an inheriting request goes to the original requester", () =>
  withNode(async (n) => {
    const r = await injectJson<{ worker_saw: unknown; from: string }>(n, HUB, { Forward: { x: 1 } });
    assertEquals(r, { worker_saw: { x: 1 }, from: `fake.dev@${HUB}` });
  }));

Deno.test("kernel: an inheriting request carries its parent's blob", () =>
  withNode(async (n) => {
    const blob = new Uint8Array(300_000).fill(7);
    const r = await inject(n, HUB, { ForwardBlob: null }, { blob });
    assertEquals(JSON.parse(r.body!), { worker_blob_len: 300_000 });
    assertEquals(JSON.parse((await inject(n, HUB, { BlobLen: null }, { blob: Uint8Array.of(1, 2, 3) })).body!), {
      len: 3,
    });
  }));

Deno.test("kernel: spawn starts a child that can message its parent at once", () =>
  withNode(async (n) => {
    const r = await injectJson<{ child: string; hello: string; from: string }>(n, HUB, { Spawn: null });
    assertMatch(r.child, /^\d+:semantics:test\.os$/);
    assertEquals(r.hello, `hello from ${r.child}`);
    assertEquals(r.from, `fake.dev@${r.child}`);
  }));

Deno.test("kernel: spawn refuses code from another package", () =>
  withNode(async (n) => {
    const r = await injectJson<{ error: string }>(n, HUB, { SpawnBadPath: null });
    assertMatch(r.error, /NoFileAtPath: .* outside the semantics:test.os package/);
  }));

Deno.test("kernel: forged capabilities are dropped, a process's own are delivered", () =>
  withNode(async (n) => {
    const caps = await injectJson<{ issuer: string; params: string }[]>(n, HUB, { Forge: null });
    assertEquals(caps, [{ issuer: `fake.dev@${HUB}`, params: '{"kind":"hub-token"}' }]);
    assert(n.lines.some((l) => l.includes("dropped forged capability fake.dev@vfs:distro:sys")), "the node says so");
  }));

Deno.test("kernel: a request without the capability fails Offline at once, with advice", () =>
  withNode(async (n) => {
    await install(n, `${PACKAGES}ping`);
    // terminal:terminal:sys is not public and the hub holds no capability for it.
    const r = await injectJson<{ kind: string; ms: number }>(n, HUB, { NoCap: "terminal:terminal:sys" });
    assertEquals(r.kind, "Offline");
    assert(r.ms < 5000, `took ${r.ms} ms, as long as the request's 5 s timeout`);
    assert(n.lines.some((l) => l.includes("may not message terminal:terminal:sys")), "the node explains");
  }));

Deno.test("kernel: messages to a process that does not exist come back Offline", () =>
  withNode(async (n) => {
    const r = await inject(n, "nobody:nothing:test.os", '"hi"', { timeout: 5 });
    assertEquals([r.status, r.error], [502, "Offline"]);
  }));

Deno.test("kernel: manifest capabilities are granted at install", () =>
  withNode(async (n) => {
    const caps = await injectJson<{ issuer: string; params: string }[]>(n, HUB, { Caps: null });
    const issuers = caps.map((c) => `${c.issuer} ${c.params}`).sort();
    assertEquals(issuers, [
      'fake.dev@silent:semantics:test.os "messaging"',
      'fake.dev@worker:semantics:test.os "messaging"',
    ]);
  }));

Deno.test("kernel API: KillProcess stops a Restart process for good", () =>
  withNode(async (n) => {
    n.kernel.killProcess("worker:semantics:test.os");
    const r = await inject(n, "worker:semantics:test.os", '"echo"', { timeout: 2 });
    assertEquals(r.error, "Offline");
    assertEquals(n.kernel.processes.has("worker:semantics:test.os"), false);
  }));

Deno.test("kernel: OnExit Requests are sent with the exiting process as source", () =>
  withNode(async (n) => {
    const r = await injectJson<{ child: string; bye: string; from: string }>(n, HUB, { OnExitRequests: null });
    assertEquals(r.bye, `goodbye from ${r.child}`);
    assertEquals(r.from, `fake.dev@${r.child}`);
    assertEquals(n.kernel.processes.has(r.child), false, "a finished None/Requests process leaves the map");
  }));

Deno.test("terminal: a package's scripts.json scripts run from the terminal, and can be aliased", () =>
  withNode(async (n) => {
    n.terminal.command("shout:semantics:test.os hello there");
    await waitFor("the script's output", () => n.lines.includes("HELLO THERE"));
    n.terminal.command("alias shout shout:semantics:test.os");
    await waitFor("the alias", () => n.lines.some((l) => l.includes("alias shout set")));
    n.terminal.command("shout again");
    await waitFor("the aliased script's output", () => n.lines.includes("AGAIN"));
    n.terminal.command("hub:semantics:test.os x");
    await waitFor("a process that is not a script", () => n.lines.some((l) => l.includes("is not a script")));
  }));
