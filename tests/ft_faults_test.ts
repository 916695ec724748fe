/**
 * file-transfer under faults, each with two real nodes: a provider that goes
 * away mid-transfer and comes back, a receiver restarted mid-transfer, a
 * file changed on the provider while it is copied, a provider that lies, a
 * full disk, and a peer the allow-list does not admit.
 */
import { assert, assertEquals } from "./assert.ts";
import { injectJson, install, waitFor } from "../runtime/testing.ts";
import { bootNet } from "../runtime/testing.ts";
import {
  bootFt,
  download,
  exists,
  filePath,
  FT,
  FT_PKG,
  putFile,
  randomBytes,
  restartNode,
  stopNode,
  transfer,
  transfers,
  until,
} from "./ft_helpers.ts";
import { FIXTURES } from "./helpers.ts";

const MiB = 1024 * 1024;
/** Big enough to be caught mid-way on a busy machine, small enough to finish soon. */
const BIG = 48 * MiB;
/**
 * For a provider stopped mid-way: what is left after `midway` must outlast the stop on a busy machine, while the
 * transfer runs at full speed (at ~200 MiB/s a 48 MiB file could end between the last look and the stop).
 */
const AWAY = 2 * BIG;

async function midway(node: Parameters<typeof transfer>[0], id: string, fraction = 0.1) {
  await waitFor("the transfer to be under way", async () => {
    const t = await transfer(node, id);
    if (t.status === "done" || t.status === "failed") throw new Error(`finished before the fault: ${t.status}`);
    return t.size !== null && t.bytes >= t.size * fraction;
  }, 60_000);
}

Deno.test("the provider stops mid-transfer: the receiver reports it, and resumes when the provider is back", async () => {
  const net = await bootFt();
  try {
    const a = net.nodes["fake.dev"];
    const bytes = randomBytes(AWAY);
    await putFile(net.nodes["fake2.dev"], "big.bin", bytes);
    const id = await download(a, "big.bin", "fake2.dev");
    await midway(a, id);
    const home = await stopNode(net, "fake2.dev");
    const cut = await until(a, id, ["interrupted"], 30_000);
    // Known as soon as the provider's node stops answering, not after 5 s of silence: from the receiver's probe, or
    // from its request to the provider's main process when that was still unanswered (seen at a load average of 40).
    assert(
      /fake2\.dev (went away: its sender can no longer be reached|is offline or not running)/.test(cut.error ?? ""),
      cut.error ?? "no reason",
    );
    await restartNode(net, "fake2.dev", home);
    const t = await until(a, id, ["done", "failed"], 90_000);
    assertEquals(t.status, "done", t.error ?? "");
    assert((t.resumed_from ?? 0) > 0, `it resumed instead of starting over (from ${t.resumed_from})`);
    assertEquals(await Deno.readFile(filePath(a, "big.bin")), bytes);
  } finally {
    await net.close();
  }
});

Deno.test("a file that changed while its provider was away is downloaded again from its start, not resumed", async () => {
  const net = await bootFt();
  try {
    const a = net.nodes["fake.dev"];
    await putFile(net.nodes["fake2.dev"], "big.bin", randomBytes(AWAY));
    const id = await download(a, "big.bin", "fake2.dev");
    await midway(a, id);
    const home = await stopNode(net, "fake2.dev");
    await until(a, id, ["interrupted"], 30_000);
    // Same name, same length, other bytes: only its version (length and modification time) tells.
    const now = randomBytes(AWAY);
    await Deno.writeFile(`${home}/vfs/file-transfer:template.os/files/big.bin`, now);
    const b = await restartNode(net, "fake2.dev", home);
    assert(b, "fake2.dev is back");
    const t = await until(a, id, ["done", "failed"], 90_000);
    assertEquals(t.status, "done", t.error ?? "");
    assertEquals(t.resumed_from ?? 0, 0, "the partial file of the old version was not kept");
    assertEquals(await Deno.readFile(filePath(a, "big.bin")), now);
  } finally {
    await net.close();
  }
});

Deno.test("the receiver's node restarts mid-transfer: the download resumes by itself from the partial file", async () => {
  const net = await bootFt();
  try {
    // Twice BIG, stopped past the sender's window (16 MiB): the last window of a partial its worker left mid-write is
    // fetched again, and much is still to send when the receiver goes.
    const bytes = randomBytes(2 * BIG);
    await putFile(net.nodes["fake2.dev"], "big.bin", bytes);
    const id = await download(net.nodes["fake.dev"], "big.bin", "fake2.dev");
    await midway(net.nodes["fake.dev"], id, 0.3);
    const home = await stopNode(net, "fake.dev");
    const a = await restartNode(net, "fake.dev", home);
    const t = await until(a, id, ["done", "failed"], 90_000);
    assertEquals(t.status, "done", t.error ?? "");
    assert((t.resumed_from ?? 0) > 0, `it resumed instead of starting over (from ${t.resumed_from})`);
    assertEquals(await Deno.readFile(filePath(a, "big.bin")), bytes);
    // The provider's upload to the receiver that went away does not stay "active": it says why it stopped.
    const b = net.nodes["fake2.dev"];
    await waitFor("the provider to mark the cut upload interrupted", async () => {
      const ups = (await transfers(b)).filter((u) => u.direction === "upload" && u.name === "big.bin");
      return ups.some((u) => u.status === "interrupted" && /fake\.dev stopped acknowledging/.test(u.error ?? ""));
    }, 40_000);
  } finally {
    await net.close();
  }
});

Deno.test("a file changed on the provider during the transfer is detected, never mixed into a final file", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    // Large enough that the end is still unread when the test rewrites it (a 48 MiB file could be all sent by then).
    const MOVING = 192 * MiB;
    await putFile(b, "moving.bin", randomBytes(MOVING));
    const id = await download(a, "moving.bin", "fake2.dev");
    await midway(a, id, 0.05);
    // Rewrite the end of the file in place, where the sender has not read yet.
    const f = await Deno.open(filePath(b, "moving.bin"), { write: true });
    await f.seek(MOVING - 4 * MiB, Deno.SeekMode.Start);
    await f.write(randomBytes(4 * MiB));
    f.close();
    const t = await until(a, id, ["done", "failed"], 60_000);
    assertEquals(t.status, "failed");
    assert(/changed on fake2\.dev during the transfer/.test(t.error!), t.error!);
    assert(!await exists(filePath(a, "moving.bin")), "nothing under the final name");
  } finally {
    await net.close();
  }
});

Deno.test("a provider that lies about the bytes or the size is caught; nothing reaches the final name", async () => {
  const net = await bootNet({ "fake.dev": {}, "fake2.dev": {} });
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    await install(a, FT_PKG);
    await install(b, `${FIXTURES}ft_liar`);
    const wrong = await download(a, "wrong-bytes.bin", "fake2.dev");
    const w = await until(a, wrong, ["done", "failed"]);
    assertEquals(w.status, "failed");
    assert(/do not match the SHA-256 fake2\.dev announced/.test(w.error!), w.error!);
    assert(!await exists(filePath(a, "wrong-bytes.bin")));
    const long = await download(a, "too-long.bin", "fake2.dev");
    const l = await until(a, long, ["done", "failed"]);
    assertEquals(l.status, "failed");
    assert(/sent more than the 1000 bytes it announced/.test(l.error!), l.error!);
    assert(!await exists(filePath(a, "too-long.bin")));
    // The receiver keeps working.
    assertEquals((await injectJson<{ ListFiles: unknown[] }>(a, FT, "ListFiles")).ListFiles, []);
  } finally {
    await net.close();
  }
});

Deno.test("a provider gone between its offer and its sender's first word is known at once, not after 30 s of silence", async () => {
  const net = await bootNet({ "fake.dev": {}, "fake2.dev": {} });
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    await install(a, FT_PKG);
    await install(b, `${FIXTURES}ft_liar`);
    const id = await download(a, "vanishing.bin", "fake2.dev");
    // The offer is in (the transfer knows its size), and its sender never speaks; then the provider's node stops.
    await waitFor("the offer", async () => (await transfer(a, id))?.size === MiB);
    await stopNode(net, "fake2.dev");
    // What the receiver says first: its probe found the node gone (before, it waited START_MS and said "silent").
    const said = () => a.lines.find((l) => /vanishing\.bin from fake2\.dev: interrupted/.test(l));
    await waitFor("the receiver to say the transfer was interrupted", () => said() !== undefined, 60_000);
    assert(/went away before its sender started/.test(said()!), said()!);
  } finally {
    await net.close();
  }
});

Deno.test("the receiver's disk fills up: a clear error, nothing under the final name", async () => {
  // The receiver's home on a 24 MiB tmpfs: a real ENOSPC from the kernel's filesystem.
  const mnt = await Deno.makeTempDir({ prefix: "hyperdeno-ft-full-" });
  const mount = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt] }).output();
  assert(mount.success, `mounting a small tmpfs needs root: ${new TextDecoder().decode(mount.stderr)}`);
  const net = await bootFt(["fake2.dev"]);
  try {
    const { bootNode } = await import("../runtime/testing.ts");
    const a = await bootNode({ name: "fake.dev", home: `${mnt}/home`, network: { chainPort: net.chain.port } });
    net.nodes["fake.dev"] = a;
    await install(a, FT_PKG);
    await waitFor("the nodes to know each other", () => a.net!.hns.has("fake2.dev"));
    await putFile(net.nodes["fake2.dev"], "huge.bin", randomBytes(40 * MiB));
    const id = await download(a, "huge.bin", "fake2.dev");
    const t = await until(a, id, ["done", "failed"], 60_000);
    assertEquals(t.status, "failed");
    assert(/disk full/.test(t.error!), t.error!);
    assert(!await exists(filePath(a, "huge.bin")), "nothing under the final name");
    // The node still answers.
    assertEquals((await injectJson<{ ListFiles: unknown[] }>(a, FT, "ListFiles")).ListFiles, []);
  } finally {
    await net.close();
    await new Deno.Command("umount", { args: ["-l", mnt] }).output();
    await Deno.remove(mnt, { recursive: true }).catch(() => {});
  }
});

Deno.test("a peer the allow-list does not admit is refused with a clear error", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    await putFile(b, "private.txt", new TextEncoder().encode("not for you"));
    await injectJson(b, FT, { Disallow: { node: "*", action: "download" } });
    await injectJson(b, FT, { Disallow: { node: "*", action: "list" } });
    // Refused at the offer, before any transfer exists (the peer answers Has with its refusal).
    const refused = await download(a, "private.txt", "fake2.dev").then(() => "", (e) => String(e));
    assert(
      refused.includes("fake.dev may not download from fake2.dev") &&
        refused.includes("allow:file-transfer:template.os download fake.dev"),
      refused,
    );
    assertEquals((await transfers(a)).length, 0);
    assert(!await exists(filePath(a, "private.txt")));
    a.terminal.command("list-files:file-transfer:template.os fake2.dev");
    await waitFor("the refusal", () => a.lines.some((l) => l.includes("fake.dev may not list files on fake2.dev")));
    // Allowed by name, the download goes through.
    await injectJson(b, FT, { Allow: { node: "fake.dev", action: "download" } });
    const id = await download(a, "private.txt", "fake2.dev");
    assertEquals((await until(a, id, ["done"])).status, "done");
    assertEquals(await Deno.readTextFile(filePath(a, "private.txt")), "not for you");
  } finally {
    await net.close();
  }
});
