/**
 * The stream between the kernel and a process host (runtime/kernel/host_channel.ts): a Unix socket that takes one
 * connection and is gone from the file system once it has (or once its host has ended without connecting); bytes go
 * both ways whole and in order; and a node with HYPERDENO_HOST_PIPES=1 runs its processes over stdin and stdout.
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { hostSocket } from "../runtime/kernel/host_channel.ts";
import { bootNode, injectJson, removeHome } from "../runtime/testing.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";
import { childHosts, PACKAGES, sh } from "./helpers.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
const dirOf = (path: string) => path.slice(0, path.lastIndexOf("/"));

Deno.test("host channel: the socket takes one connection, then is gone; bytes go both ways in order", async () => {
  const socket = hostSocket();
  assert(socket, "Unix sockets work on this machine");
  assert(await exists(socket.path), "the socket is there until its host connects");
  const info = await Deno.stat(dirOf(socket.path));
  assertEquals(info.mode! & 0o077, 0, "its directory is the node's user's alone");
  const host = await Deno.connect({ transport: "unix", path: socket.path });
  const channel = await socket.accept(new Promise(() => {}));
  assert(!(await exists(dirOf(socket.path))), "the socket's directory is removed once the host connected");
  await assertRejects(() => Deno.connect({ transport: "unix", path: socket.path }));

  // Kernel → host: many writes, some large, arrive whole and in order.
  const sizes = [1, 70_000, 3, 1 << 20, 5];
  const sent = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
  const writes = sent.map((b) => channel.write(b));
  const total = sizes.reduce((a, b) => a + b, 0);
  const got = new Uint8Array(total);
  for (let o = 0; o < total;) o += (await host.read(got.subarray(o)))!;
  await Promise.all(writes);
  let o = 0;
  for (const b of sent) {
    assertEquals(got.subarray(o, o + b.length), b);
    o += b.length;
  }

  // Host → kernel: what the host writes comes to the reader (borrowed chunks, copied here), until the host closes.
  const read: Uint8Array[] = [];
  const reading = channel.read((chunk, borrowed) => read.push(borrowed ? chunk.slice() : chunk));
  const up = new Uint8Array(300_000).fill(7);
  for (let w = 0; w < up.length;) w += await host.write(up.subarray(w));
  host.close();
  await reading;
  const all = new Uint8Array(read.reduce((n, c) => n + c.length, 0));
  read.reduce((at, c) => (all.set(c, at), at + c.length), 0);
  assertEquals(all, new Uint8Array(300_000).fill(7));
  channel.close();
});

Deno.test("host channel: a host that ends before it connects leaves no socket behind", async () => {
  const socket = hostSocket()!;
  await assertRejects(() => socket.accept(Promise.resolve()), Error, "ended before it connected");
  assert(!(await exists(dirOf(socket.path))), "the socket's directory is removed");
});

Deno.test("host channel: processes answer over the socket, and over stdin and stdout with HYPERDENO_HOST_PIPES=1", async () => {
  const dir = `${PACKAGES}ping`;
  await buildPackage(dir, { onlyIfStale: true });
  for (const pipes of [false, true]) {
    if (pipes) Deno.env.set("HYPERDENO_HOST_PIPES", "1");
    const n = await bootNode({ sandbox: "processes" });
    try {
      n.install("ping:test.os", readPkgDir(`${dir}/pkg`));
      assertEquals(await injectJson(n, "ping:ping:test.os", "ping", 60), "pong");
      const hosts = await childHosts();
      assert(hosts.length > 0, "the process runs in a process host");
      for (const pid of hosts) {
        // The host's own file descriptors say how it talks to the kernel: a socket, or pipes on 0 and 1.
        const fd0 = (await sh(`readlink /proc/$0/fd/0`, String(pid))).trim();
        assertEquals(fd0.startsWith("pipe:"), pipes, `host ${pid}'s stdin is ${fd0}`);
      }
    } finally {
      Deno.env.delete("HYPERDENO_HOST_PIPES");
      await n.shutdown();
      await removeHome(n);
    }
  }
});
