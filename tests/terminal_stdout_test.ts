/** A node whose reader goes away keeps running: its lines are dropped, not its life. */
import { assertEquals } from "./assert.ts";
import { cli, freePort, RUN_FLAGS } from "./cli_helpers.ts";
import { PACKAGES } from "./helpers.ts";

Deno.test("terminal: a node whose stdout is closed after 'node ready' keeps serving and installing", async () => {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-stdout-" });
  await Deno.remove(home);
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [...RUN_FLAGS, "boot-fake-node", "-p", String(port), "-o", home, "-c", String(freePort())],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const reader = child.stdout.getReader();
    let out = "";
    while (!/node ready/.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the node did not boot:\n${out}`);
      out += new TextDecoder().decode(value);
    }
    await reader.cancel();
    // Installing prints lines (what the package was granted) to the closed pipe.
    assertEquals((await cli("start-package", `${PACKAGES}ping`, "-p", String(port))).code, 0);
    const r = await cli("inject-message", "ping:ping:template.os", '"ping"', "-p", String(port));
    assertEquals([r.code, r.out.trim()], [0, '"pong"']);
  } finally {
    child.kill("SIGINT");
    await child.status;
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
