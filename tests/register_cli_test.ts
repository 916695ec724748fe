/**
 * The two ways to start a real node, as a user types them: kit's `hyperdeno boot-real-node --home ... --rpc ...`
 * and Hyperdrive's `hyperdeno <home> --port ... --rpc ...`. A home without an identity says where to register and
 * serves the pages; a home with one boots with --password, and a wrong one is one line.
 */
import { assertEquals, assertMatch } from "./assert.ts";
import { startChain } from "../runtime/testing.ts";
import { cli, freePort, PipedProcess, RUN_FLAGS } from "./cli_helpers.ts";
import { writeIdentity } from "../register/identity.ts";
import { saveKeys } from "../runtime/keys.ts";
import { ed25519 } from "@noble/curves/ed25519.js";

Deno.test("boot-real-node and hyperdeno <home>: the registration pages' line, a missing --home, a wrong password", async () => {
  const chain = await startChain();
  const homes: string[] = [];
  try {
    const missing = await cli("boot-real-node", "--rpc", chain.url);
    assertEquals(missing.code, 2);
    assertMatch(missing.err, /--home is required/);

    for (const form of ["kit", "hyperdrive"]) {
      const home = await Deno.makeTempDir({ prefix: "hyperdeno-real-cli-" });
      homes.push(home);
      const port = freePort();
      const args = form === "kit"
        ? ["boot-real-node", "--home", home, "-p", String(port), "--rpc", chain.url]
        : [home, "--port", String(port), "--rpc", chain.url];
      const p = new PipedProcess(Deno.execPath(), [...RUN_FLAGS, ...args]);
      try {
        await p.waitFor(new RegExp(`login or register at http://localhost:${port}\\n`), 60_000);
        const page = await fetch(`http://localhost:${port}/`);
        assertMatch(await page.text(), /Register \.os name/);
        const info = await (await fetch(`http://localhost:${port}/api/info`)).json();
        assertEquals([info.mode, info.chain_id], ["register", 31337]);
      } finally {
        await p.stop();
      }
    }

    // A home with an identity and a wrong --password: one line, no trace.
    const home = await Deno.makeTempDir({ prefix: "hyperdeno-real-cli-" });
    homes.push(home);
    await saveKeys(home, "the right one", ed25519.utils.randomSecretKey());
    writeIdentity(home, { name: "someone.os", chain_id: 31337, routing: { routers: ["relay.dev"] } });
    const wrong = await cli(home, "--port", String(freePort()), "--rpc", chain.url, "--password", "not it");
    assertEquals(wrong.code, 1, wrong.err);
    assertMatch(wrong.err, /^boot-real-node: wrong password for someone\.os/);
  } finally {
    await chain.stop();
    for (const h of homes) await Deno.remove(h, { recursive: true }).catch(() => {});
  }
});
