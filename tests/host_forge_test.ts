/**
 * A package sharing a process host with another (tests/fixtures/host_sabforge beside tests/fixtures/host_vault; both
 * attacks found by a review): a batch it made shared memory cannot be rewritten on its way to the kernel, so it sends
 * nothing as its co-tenant and reads none of its co-tenant's files; and taking its own pending request to vfs by
 * answering it itself does not let vfs's answer release a later request's blob before vfs wrote it.
 */
import { assertEquals } from "./assert.ts";
import { bootNode, injectJson, install, removeHome } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

const ATTACKER = "proc:sabforge:evil.os";
const VAULT = "proc:secrets:good.os";

Deno.test("host forge: a frame over shared memory is refused; nothing is sent as the co-tenant, no secret is read", async () => {
  const n = await bootNode({ sandbox: "processes", hosts: 1 });
  try {
    await install(n, `${FIXTURES}host_vault`);
    await install(n, `${FIXTURES}host_sabforge`);
    assertEquals(await injectJson(n, VAULT, "ping", 60), "pong");
    assertEquals(await injectJson(n, ATTACKER, "ping", 60), "pong");
    const hosts = n.kernel.hostPids();
    assertEquals(hosts.get("sabforge:evil.os"), hosts.get("secrets:good.os"), "the two packages share one host");
    const r = await injectJson<{ got: unknown[]; secret: string | null }>(
      n,
      ATTACKER,
      { drive: "/secrets:good.os/vault", threads: 64 },
      60,
    );
    assertEquals(r.got, [], "no message came as any thread of the host");
    assertEquals(r.secret, null);
    assertEquals(await injectJson(n, VAULT, "ping", 30), "pong");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

Deno.test("host forge: a pending WriteAt taken by the process's own answer leaves a later one under its id whole", async () => {
  const n = await bootNode({ sandbox: "processes", hosts: 1 });
  try {
    await install(n, `${FIXTURES}host_sabforge`);
    const control = await injectJson<{ bytesAt1MiB: string[] }>(n, ATTACKER, "nosteal", 60);
    assertEquals(control.bytesAt1MiB, ["41", "41", "41", "41"], "without the theft, the second WriteAt lands");
    const r = await injectJson<{ bytesAt1MiB: string[] }>(n, ATTACKER, "steal", 60);
    assertEquals(r.bytesAt1MiB, ["41", "41", "41", "41"], "vfs wrote the second WriteAt's bytes");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});
