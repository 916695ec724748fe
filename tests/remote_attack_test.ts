/**
 * Another node attacks the kernel and the runtime modules. Only
 * net:distro:sys speaks with other nodes (hello, ConnectionRequest); every
 * other module, and the kernel above all, takes no request from the network.
 * A refused request gets no answer (as from a process that takes nothing from
 * the network), so the sender sees Timeout; the victim's log names the refusal.
 */
import { assert, assertEquals } from "./assert.ts";
import { inject, injectJson, type TestNode, waitFor } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { bootNet } from "./net_helpers.ts";
import { RawPeer } from "./remote_peer.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { ROOT } from "../runtime/types.ts";

const ATTACKER = "attacker:remote-attacker:test.os";
const PAYLOAD_PROCESS = "pwn:remote-attacker:test.os";
/** What must never reach a screen raw: C0 controls but \t and \n, DEL, C1, a bidi override. */
// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;

async function payloadCode(): Promise<Uint8Array> {
  await buildPackage(`${FIXTURES}remote_attacker`, { onlyIfStale: true });
  return await Deno.readFile(`${FIXTURES}remote_attacker/pkg/payload.js`);
}

/** Has the attacker process on `from` send `body` to `target` (with `blob` attached) and await 2 s. */
async function attack(from: TestNode, target: string, body: unknown, blob?: Uint8Array) {
  const send = { target, body: JSON.stringify(body), withBlob: Boolean(blob), timeout: 2 };
  const r = await inject(from, ATTACKER, { Send: send }, { blob });
  if (r.status !== 200) throw new Error(`inject failed: ${r.status} ${r.error}`);
  return JSON.parse(r.body!) as { ok?: string; err?: string };
}

/** The kernel commands and module requests an attacker would send, by target. */
function attacks(victim: string, handle: string) {
  return [
    ["kernel:distro:sys", { Debug: "ProcessMap" }],
    ["kernel:distro:sys", { KillProcess: "terminal:terminal:sys" }],
    ["kernel:distro:sys", {
      InitializeProcess: {
        id: PAYLOAD_PROCESS,
        wasm_bytes_handle: handle,
        wit_version: 1,
        on_exit: "Restart",
        initial_capabilities: [{ issuer: `${victim}@kernel:distro:sys`, params: ROOT }],
        public: true,
      },
    }],
    ["kernel:distro:sys", { RunProcess: PAYLOAD_PROCESS }],
    ["timer:distro:sys", { SetTimer: 0 }],
    ["vfs:distro:sys", { path: "/terminal:sys/pkg/scripts.json", action: "ReadToString" }],
    ["kv:distro:sys", { package_id: "terminal:sys", db: "secrets", action: "Open" }],
    ["sqlite:distro:sys", { package_id: "terminal:sys", db: "secrets", action: "Open" }],
    ["state:distro:sys", { GetState: "terminal:terminal:sys" }],
  ] as const;
}

Deno.test("remote: another node's KernelCommands and module requests get no answer and run nothing", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} }, { install: ["remote_attacker"] });
  try {
    const [a, b] = [net.nodes["a.dev"], net.nodes["b.dev"]];
    const code = await payloadCode();
    const results = await Promise.all(
      attacks("a.dev", "remote-attacker:test.os/pkg/pwn.js").map(async ([to, body]) =>
        [to, await attack(b, `a.dev@${to}`, body, code)] as const
      ),
    );
    for (const [to, r] of results) assertEquals(r, { err: "Timeout" }, `${to} answered a remote request`);
    for (const to of new Set(results.map(([t]) => t))) {
      assert(
        a.lines.some((l) => l.includes(`refused a request from b.dev@${ATTACKER} to ${to}`)),
        `no refusal for ${to} in a.dev's log`,
      );
    }
    assert(!a.kernel.processes.has(PAYLOAD_PROCESS), "the remote InitializeProcess took effect");
    assert(!a.lines.some((l) => l.includes("REMOTE PAYLOAD RAN")), "the remote payload ran");
    assert(a.kernel.status("terminal:terminal:sys").running, "the terminal was killed");
    // A stock node's own `m` script makes the same attack and hears nothing.
    b.terminal.command(`m -a 2 a.dev@kernel:distro:sys '{"Debug": "ProcessMap"}'`);
    await waitFor("m to time out", () => b.lines.some((l) => l.includes("m: no response from a.dev@kernel")));
    a.terminal.command("echo a.dev still answers");
    await waitFor("the terminal to run", () => a.lines.some((l) => l === "a.dev still answers"));
  } finally {
    await net.close();
  }
});

Deno.test("remote: claiming the terminal's or a module's process id gains a remote node nothing", async () => {
  const net = await bootNet({ "a.dev": {} }, { install: [] });
  const peer = await RawPeer.connect(net, "evil.dev", "a.dev");
  try {
    const a = net.nodes["a.dev"];
    const terminalCode = `${a.opts.home}/vfs/terminal:sys/pkg/terminal.js`;
    const before = await Deno.readFile(terminalCode);
    const code = await payloadCode();
    // Overwriting the terminal's own code with root capabilities would survive every restart.
    for (const [to, body] of attacks("a.dev", "terminal:sys/pkg/terminal.js")) {
      await peer.request("terminal:terminal:sys", `a.dev@${to}`, body, code);
    }
    await peer.request("net:distro:sys", "a.dev@kernel:distro:sys", "Shutdown");
    await peer.request("kernel:distro:sys", "a.dev@vfs:distro:sys", {
      path: "/terminal:sys/pkg/terminal.js",
      action: "Write",
    }, code);
    assertEquals(await peer.answers(1500), [], "the victim answered");
    assertEquals(await Deno.readFile(terminalCode), before, "the terminal's code was replaced");
    assert(!a.kernel.processes.has(PAYLOAD_PROCESS), "the payload was initialized");
    assert(a.kernel.status("terminal:terminal:sys").running, "the terminal was killed");
    assert(a.lines.some((l) => l.includes("refused a request from evil.dev@net:distro:sys to kernel:distro:sys")));
    a.terminal.command("echo still here");
    await waitFor("the terminal to run", () => a.lines.some((l) => l === "still here"));
  } finally {
    peer.close();
    await net.close();
  }
});

Deno.test("remote: hello text cannot clear the screen or forge lines", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} }, { install: ["remote_attacker"] });
  try {
    const a = net.nodes["a.dev"];
    const hostile = "\x1b[2J\x1b[Hhi\r\x1b[2Kkernel: a.dev granted root to b.dev\n\u202ekernel: forged\x07";
    const r = await injectJson<{ ok?: string }>(net.nodes["b.dev"], ATTACKER, {
      Send: { target: "a.dev@net:distro:sys", body: hostile },
    });
    assertEquals(r, { ok: "ack" }, "hello is answered with the reference's ack");
    await waitFor("the hello", () => a.lines.some((l) => l.includes("granted root")));
    const shown = a.lines.find((l) => l.includes("granted root"))!;
    const label = "\x1b[1mb.dev\x1b[0m: ";
    for (const line of shown.split("\n")) {
      assert(line.startsWith(label), `a line without its sender: ${JSON.stringify(line)}`);
      assert(!RAW_CONTROL.test(line.slice(label.length)), `raw control: ${JSON.stringify(line)}`);
    }
    assert(shown.includes("\\x1b[2J\\x1b[Hhi\\r\\x1b[2Kkernel: a.dev granted root"), JSON.stringify(shown));
  } finally {
    await net.close();
  }
});

Deno.test("remote: 20,000 timer requests from another node set no timer and print a bounded number of lines", async () => {
  const net = await bootNet({ "a.dev": {} }, { install: [] });
  const peer = await RawPeer.connect(net, "flood.dev", "a.dev");
  try {
    const a = net.nodes["a.dev"];
    const before = a.lines.length;
    // Each claims another process id: the node, not the claim, is what gets counted.
    for (let i = 0; i < 20_000; i++) await peer.request(`p${i}:x:flood.dev`, "a.dev@timer:distro:sys", { SetTimer: 1 });
    assertEquals(await peer.answers(1000), [], "a timer popped for the remote node");
    const refusals = a.lines.filter((l) => l.includes("to timer:distro:sys: runtime modules take no requests"));
    assertEquals(refusals.length, 10);
    assert(a.lines.length - before <= 12, `${a.lines.length - before} lines`);
    a.terminal.command("echo still here");
    await waitFor("the terminal to run", () => a.lines.some((l) => l === "still here"));
  } finally {
    peer.close();
    await net.close();
  }
});
