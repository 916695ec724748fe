/**
 * Bytes the kernel queued for a process host are never released before they are written
 * (runtime/kernel/running.ts gives them to the process, runtime/kernel/sole_blobs.ts then leaves them be): a package
 * that tried (the fixture host_desync) once left its host's stream short by a frame's bytes, so the host read the
 * next batch, a co-tenant's included, as the rest of that frame, and every process there stopped hearing the kernel;
 * with bytes of its choosing next, it forged messages to a co-tenant (found by a review that attacked it).
 */
import { assert, assertEquals } from "./assert.ts";
import { bootNode, injectJson, install, removeHome, waitFor } from "../runtime/testing.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { FIXTURES, PACKAGES } from "./helpers.ts";

const ATTACKER = "attacker:hostdesync:evil.os";
const VICTIM = "ping:ping1:pub1.os";

Deno.test("host desync: a blob handed back in a SendError, then written by vfs, leaves the shared host's stream whole", async () => {
  const n = await bootNode({ sandbox: "processes", hosts: 1 });
  try {
    await install(n, `${FIXTURES}host_desync`);
    await buildPackage(`${PACKAGES}ping`, { onlyIfStale: true });
    n.install("ping1:pub1.os", readPkgDir(`${PACKAGES}ping/pkg`));
    assertEquals(await injectJson(n, VICTIM, "ping", 60), "pong");
    assertEquals(await injectJson(n, ATTACKER, "ping", 60), "pong");
    const hosts = n.kernel.hostPids();
    assertEquals(hosts.get("hostdesync:evil.os"), hosts.get("ping1:pub1.os"), "the two packages share one host");
    const { drive } = await injectJson<{ drive: string }>(n, ATTACKER, "attack", 30);
    // vfs wrote what it was given, whole.
    const dst = `${n.opts.home}/vfs/${drive.replace(/^\//, "")}/dst.bin`;
    for (let i = 0; i < 200 && (await Deno.stat(dst)).size < 1 << 20; i++) await new Promise((r) => setTimeout(r, 50));
    assertEquals(await Deno.readFile(dst), new Uint8Array(1 << 20).fill(0x41));
    // The host's stream is in step: both packages still hear the kernel, in the same host.
    assertEquals(await injectJson(n, VICTIM, "ping", 30), "pong");
    assertEquals(await injectJson(n, ATTACKER, "ping", 30), "pong");
    assertEquals(n.kernel.hostPids().get("ping1:pub1.os"), hosts.get("ping1:pub1.os"), "no host was ended");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
});

for (const sandbox of ["processes", "threads"] as const) {
  Deno.test(`host desync: a call whose kind cannot become a string, or a send of the wrong shape, ends nothing else (${sandbox})`, async () => {
    const n = await bootNode({ sandbox, hosts: 1 });
    try {
      await install(n, `${FIXTURES}host_desync`);
      await buildPackage(`${PACKAGES}ping`, { onlyIfStale: true });
      n.install("ping1:pub1.os", readPkgDir(`${PACKAGES}ping/pkg`));
      assertEquals(await injectJson(n, VICTIM, "ping", 60), "pong");
      const hosts = n.kernel.hostPids();
      assertEquals(await injectJson(n, ATTACKER, "badkind", 30), "sent");
      await waitFor("the refusal", () => n.lines.some((l) => l.includes("refused a call from attacker:hostdesync")));
      // A send with a context, or a blob, of the wrong shape (it crosses as a rare kind in processes mode).
      const refused = () =>
        n.lines.filter((l) => l.includes("attacker:hostdesync:evil.os may not use the network")).length;
      for (const bomb of ["ctxbomb", "blobbomb", "sabsend"]) {
        const before = refused(), lines = n.lines.length;
        assertEquals(await injectJson(n, ATTACKER, bomb, 30), "sent");
        // The send it posts later: refused (no networking, a blob of no bytes, or a send that came whole).
        await waitFor(
          `the ${bomb}'s send`,
          () =>
            refused() > before || n.lines.slice(lines).some((l) => /a blob is \{|refused bad from attacker/.test(l)),
        );
        if (bomb === "sabsend" && sandbox === "threads") {
          // Refused whole, never routed (in processes mode node:v8 cannot even carry shared memory).
          assert(
            n.lines.slice(lines).some((l) => l.includes("refused bad from attacker")),
            n.lines.slice(lines).join("\n"),
          );
        }
        await new Promise((r) => setTimeout(r, 200)); // its SendError's batch goes in a later turn
        assertEquals(await injectJson(n, ATTACKER, "ping", 30), "pong");
      }
      assertEquals(await injectJson(n, VICTIM, "ping", 30), "pong");
      assertEquals(await injectJson(n, ATTACKER, "ping", 30), "pong");
      assertEquals(n.kernel.hostPids(), hosts, "no host was ended");
    } finally {
      await n.shutdown();
      await removeHome(n);
    }
  });
}
