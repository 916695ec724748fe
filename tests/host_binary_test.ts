/**
 * The binary batches on a process host's pipe (runtime/host/binary.ts): every
 * field round-trips, and what a host sends is hostile: a truncated batch,
 * lengths past its end, counts it cannot hold and unknown kinds each throw
 * MalformedBatch, and a kernel that reads one ends that host alone.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import {
  decodeFromProcess,
  decodeToProcess,
  encodeFromProcess,
  encodeToProcess,
  MalformedBatch,
} from "../runtime/host/binary.ts";
import { FRAME_HEADER, FrameReader, joined, stamp, stampParts } from "../runtime/host/pipe.ts";
import type { FromProcess, ToProcess } from "../runtime/host/protocol.ts";
import { Sandbox } from "../runtime/kernel/sandbox.ts";
import type { HostPool } from "../runtime/kernel/host_pool.ts";
import { hostFrames } from "../runtime/kernel/host_process.ts";

const bytes = (n: number, v = 1) => new Uint8Array(n).fill(v);
/** An encoded batch without its header room, as the reader on the other side gets it. */
const payload = (f: Uint8Array | Uint8Array[]) => (Array.isArray(f) ? joined(f) : f).slice(FRAME_HEADER);

/** A process's request to its own node carrying `blob`. */
const sendOf = (id: bigint, blob: Uint8Array): FromProcess => ({
  t: "send",
  id,
  target: "our@p:q:r.os",
  message: { Request: { inherit: false, expects_response: 5, body: bytes(3), metadata: null, capabilities: [] } },
  blob: { mime: null, bytes: blob },
  prompt: null,
  blobFrom: null,
  context: null,
  keepBlob: false,
  withheld: false,
});

function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return "";
}

Deno.test("host binary: kernel → process messages round-trip every field", () => {
  const msgs: ToProcess[] = [0, 1, 5, 70_000, 1_000_000].map((n, i) => ({
    t: "msg",
    km: {
      id: 2n ** 64n - BigInt(i + 1),
      source: "a.os@x:y:z.os",
      target: i === 2 ? "ünïcode.os@p:q:r.os" : "a.os@p:q:r.os",
      rsvp: i % 2 ? "a.os@x:y:z.os" : null,
      message: i % 2
        ? {
          Request: {
            inherit: true,
            expects_response: i === 1 ? null : 1.5,
            body: bytes(n, i),
            metadata: "m",
            capabilities: [],
          },
        }
        : {
          Response: [{
            inherit: false,
            body: bytes(n, i),
            metadata: null,
            capabilities: [{ issuer: "a.os@x:y:z.os", params: '{"messaging":"x"}' }],
          }, i === 4 ? null : bytes(3)],
        },
      lazy_load_blob: i > 1 ? { mime: i === 3 ? null : "text/plain", bytes: bytes(n, 9) } : null,
    },
    context: i === 4 ? bytes(0) : i === 3 ? bytes(7) : null,
    withheld: i === 0 ? { mime: null, size: 5000 } : null,
  }));
  msgs.push({ t: "reply", call: 3, ok: true, value: { any: "thing", id: 5n } });
  msgs.push({
    t: "err",
    id: 7n,
    error: {
      kind: "Timeout",
      target: "a.os@p:q:r.os",
      message: { Request: { inherit: false, expects_response: 5, body: bytes(9), metadata: null, capabilities: [] } },
      lazy_load_blob: { mime: "x/y", bytes: bytes(100_000, 4) },
    },
    context: bytes(2),
  });
  msgs.push({ t: "init", our: "a.os@p:q:r.os", code: "x", state: null, capabilities: [] });
  assertEquals(decodeToProcess(payload(encodeToProcess(msgs))), msgs);
});

Deno.test("host binary: a batch to a process leaves large blobs out of its buffer, written as they are", () => {
  const big = new Uint8Array(300_000).map((_, i) => i % 251);
  const msg = (id: bigint, blob: Uint8Array, body = bytes(3)): ToProcess => ({
    t: "msg",
    km: {
      id,
      source: "a.os@x:y:z.os",
      target: "a.os@p:q:r.os",
      rsvp: null,
      message: { Request: { inherit: false, expects_response: 5, body, metadata: null, capabilities: [] } },
      lazy_load_blob: { mime: null, bytes: blob },
    },
    context: null,
    withheld: null,
  });
  // A body as large as a blob, the same blob twice (a reference to its first place), a small blob between.
  const msgs = [msg(1n, big), msg(2n, bytes(70), big.subarray(5, 70_005)), msg(3n, big), msg(4n, bytes(5000))];
  const parts = encodeToProcess(msgs);
  assertEquals(parts.filter((p) => p === big).length, 1, "the blob goes once, as the object itself");
  assert(parts.some((p) => p.buffer === big.buffer && p.length === 70_000), "a large body is not copied either");
  assert(parts.reduce((n, p) => n + p.length, 0) < 300_000 + 70_000 + 5000 + 4096, "no large field twice");
  const [one, two, three, four] = decodeToProcess(payload(parts)) as Extract<ToProcess, { t: "msg" }>[];
  assertEquals(one.km.lazy_load_blob!.bytes, big);
  assertEquals(three.km.lazy_load_blob!.bytes, big);
  assertEquals(two.km.message, msgs[1].t === "msg" ? msgs[1].km.message : null);
  assertEquals(four.km.lazy_load_blob!.bytes, bytes(5000));
  // Stamped, the parts are one frame as the host's reader cuts it.
  const frames: Uint8Array[] = [];
  const reader = new FrameReader(1 << 24, (_t, p) => frames.push(p.slice()));
  for (const p of stampParts(encodeToProcess(msgs), 3)) reader.push(p);
  assertEquals(frames.length, 1);
  assertEquals(decodeToProcess(frames[0]), decodeToProcess(payload(parts)));
});

Deno.test("host binary: process → kernel messages round-trip, took and rare kinds included", () => {
  const msgs: FromProcess[] = [
    {
      t: "send",
      id: 9n,
      target: "our@p:q:r.os",
      message: {
        Request: { inherit: false, expects_response: 30, body: bytes(4), metadata: null, capabilities: [] },
      },
      blob: { mime: null, bytes: bytes(3000) },
      prompt: null,
      blobFrom: 4n,
      context: bytes(2),
      keepBlob: true,
      withheld: false,
    },
    {
      t: "send",
      id: 10n,
      target: "our@p:q:r.os",
      message: {
        Response: [
          { inherit: true, body: bytes(0), metadata: "md", capabilities: [{ issuer: "i", params: "p" }] },
          null,
        ],
      },
      blob: null,
      prompt: 3n,
      blobFrom: null,
      context: null,
      keepBlob: false,
      withheld: true,
    },
    { t: "took", n: 256 },
    { t: "print", verbosity: 0, text: "hi" },
  ];
  assertEquals(decodeFromProcess(payload(encodeFromProcess(msgs))), msgs);
});

Deno.test("host binary: truncated batches, lengths past the end, unknown kinds and lying counts throw MalformedBatch", () => {
  const send: FromProcess = {
    t: "send",
    id: 1n,
    target: "our@p:q:r.os",
    message: { Request: { inherit: false, expects_response: null, body: bytes(40), metadata: null, capabilities: [] } },
    blob: null,
    prompt: null,
    blobFrom: null,
    context: null,
  };
  const good = payload(encodeFromProcess([send]));
  // Cut anywhere: inside the count, the kind, the id, a length or the body.
  for (const cut of [0, 2, 4, 5, 9, 13, 20, good.length - 1]) {
    assertMatch(
      thrown(() => decodeFromProcess(good.subarray(0, cut))),
      /^MalformedBatch: (.*runs past its batch|a batch claims 1 messages in 0 bytes)/,
      `cut at ${cut}`,
    );
  }
  // The body's length claims more than the batch holds.
  const long = good.slice();
  const bodyAt = 4 + 1 + 8 + 4 + "our@p:q:r.os".length + 8 + 1;
  new DataView(long.buffer).setUint32(bodyAt, 2 ** 31);
  assertMatch(thrown(() => decodeFromProcess(long)), /^MalformedBatch: a byte field of 2147483648 bytes/);
  // A capability list longer than the bytes left.
  const caps = good.slice();
  new DataView(caps.buffer).setUint32(bodyAt + 4 + 40 + 4, 0xfffffff);
  assertMatch(thrown(() => decodeFromProcess(caps)), /^MalformedBatch: a capability list/);
  // An unknown kind.
  const kind = good.slice();
  kind[4] = 0x7f;
  assertMatch(thrown(() => decodeFromProcess(kind)), /^MalformedBatch: unknown message kind 127/);
  // A count the bytes cannot hold, and bytes after the last message.
  const count = good.slice();
  new DataView(count.buffer).setUint32(0, 1_000_000);
  assertMatch(thrown(() => decodeFromProcess(count)), /^MalformedBatch: a batch claims 1000000 messages/);
  const trailing = new Uint8Array(good.length + 3);
  trailing.set(good);
  assertMatch(thrown(() => decodeFromProcess(trailing)), /^MalformedBatch: 3 bytes follow/);
  // A rare message whose node:v8 bytes do not deserialize.
  const other = new Uint8Array([0, 0, 0, 1, 0, 0, 0, 0, 3, 0xff, 0x0f, 0x41]);
  assertMatch(thrown(() => decodeFromProcess(other)), /^MalformedBatch: .*does not deserialize/);
  // Random bytes never throw anything but MalformedBatch.
  for (let i = 0; i < 2000; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(5 + (i % 64)));
    if (i % 3 === 0) junk.set([0, 0, 0, 1, 2]);
    try {
      decodeFromProcess(junk);
    } catch (e) {
      assert(e instanceof MalformedBatch, `junk threw ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
});

Deno.test("host binary: a batch field kept by the kernel does not hold a large frame alive", () => {
  const small: FromProcess = {
    t: "send",
    id: 1n,
    target: "t",
    message: { Request: { inherit: false, expects_response: 5, body: bytes(10), metadata: null, capabilities: [] } },
    blob: { mime: null, bytes: bytes(1_000_000) },
    prompt: null,
    blobFrom: null,
    context: null,
  };
  const [m] = decodeFromProcess(payload(encodeFromProcess([small])));
  assert(m.t === "send" && "Request" in m.message);
  assertEquals(m.message.Request.body.buffer.byteLength, 10, "the body is a copy of its own");
  assertEquals(m.blob!.bytes.length, 1_000_000);
});

// Through the kernel's real reader of a real host: a malformed batch ends its process with a one-line reason.
Deno.test("host binary: a thread's malformed batch ends its process alone; its host and co-tenant serve on", async () => {
  // The host frames each thread's batch itself, so a bad one is its process's doing (it can make the bootstrap write
  // any bytes): ending the host for it let a package take its co-tenants down again and again (found by a review).
  const sandbox = new Sandbox({ mode: "processes" });
  const ended: Record<string, string> = {};
  try {
    const bad = sandbox.start("p:bad-batch:test.os", (error) => ended.p = error ?? "");
    const good = sandbox.start("q:bad-batch:test.os", (error) => ended.q = error ?? "");
    const host = (sandbox as unknown as { pool: HostPool }).pool.hostOf("bad-batch:test.os");
    await host.ready;
    // The bytes as the kernel reads them off the host's socket: thread 1 is p's.
    const reader = new FrameReader(
      1024,
      (t, p) => (host as unknown as { receive(t: number, p: Uint8Array): void }).receive(t, p),
    );
    reader.push(stamp(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f]), 1));
    assertEquals(ended, { p: "it sent a malformed batch (unknown message kind 127 at byte 4)" });
    assert(host.alive, "the host goes on");
    assertEquals((sandbox as unknown as { pool: HostPool }).pool.hostOf("bad-batch:test.os"), host);
    bad.terminate();
    good.terminate();
    assertEquals(Object.keys(ended), ["p"], "q was never ended");
  } finally {
    await sandbox.close();
  }
});

Deno.test("host pipe: frames cut from a reused read buffer arrive whole, however the reads split them", () => {
  const sizes = [1, 70_000, 3, 30_000, 0, 300_000, 65_536];
  const frames = sizes.map((n, i) => stamp(new Uint8Array(FRAME_HEADER + n).fill(i + 1), i + 1));
  const stream = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  frames.reduce((o, f) => (stream.set(f, o), o + f.length), 0);
  for (const readSize of [5, 1000, 4096, 65_536, 262_144, stream.length]) {
    const got: [number, number, number][] = [];
    const owned: [number, Uint8Array][] = [];
    const buf = new Uint8Array(readSize);
    const reader = new FrameReader(1 << 20, (t, p, own) => {
      got.push([t, p.length, p.every((b) => b === t) ? 1 : 0]);
      if (!own) return;
      // An owned payload is the whole of a buffer of its own, which later reads never touch.
      assert(p.byteOffset === 0 && p.byteLength === p.buffer.byteLength && p.buffer !== buf.buffer);
      owned.push([t, p]);
    });
    for (let o = 0; o < stream.length; o += readSize) {
      const n = Math.min(readSize, stream.length - o);
      buf.set(stream.subarray(o, o + n));
      reader.push(buf.subarray(0, n), true);
      buf.fill(0xee); // the next read overwrites it
    }
    assertEquals(got, sizes.map((n, i) => [i + 1, n, 1]), `reads of ${readSize}`);
    for (const [t, p] of owned) assert(p.every((b) => b === t), `reads of ${readSize}: frame ${t} kept whole`);
    // A frame longer than any read is always gathered into a buffer of its own.
    assert(owned.some(([t]) => t === 6) || readSize === stream.length, `reads of ${readSize}: 300 kB frame owned`);
  }
});

Deno.test("host binary: one blob sent to many is written once a batch; a reference past what was read is malformed", () => {
  const blob = bytes(100_000, 7);
  const send = (id: bigint) => sendOf(id, blob);
  const batch = payload(encodeFromProcess([send(1n), send(2n), send(3n)]));
  assert(batch.length < 2 * blob.length, `three sends of one blob take ${batch.length} bytes`);
  const got = decodeFromProcess(batch);
  assertEquals(got, [send(1n), send(2n), send(3n)]);
  // A reference that points at bytes after itself.
  const forged = payload(encodeFromProcess([send(1n), send(2n)]));
  const view = new DataView(forged.buffer, forged.byteOffset);
  for (let i = forged.length - 12; i > 0; i--) {
    if (view.getUint32(i) === 0xfffffffe) {
      view.setUint32(i + 4, forged.length - 10);
      break;
    }
  }
  assertMatch(
    thrown(() => decodeFromProcess(forged)),
    /^MalformedBatch: a reference at byte \d+ to bytes not before it/,
  );
});

Deno.test("host frames: a batch read whole from a reused buffer is kept as a copy, not as views the next read overwrites", () => {
  // A field of 128 KiB or more in a 256 KiB read is decoded as a view of its buffer; the kernel keeps it (a vfs write,
  // a queued send) while the socket reads into that buffer again (found by a review: a co-tenant's bytes leaked in).
  const blob = new Uint8Array(150 * 1024).fill(0x41);
  const frame = stamp(encodeFromProcess([sendOf(1n, blob)]), 7);
  const readBuffer = new Uint8Array(256 * 1024);
  readBuffer.set(frame);
  const kept: FromProcess[] = [];
  const reader = hostFrames((_thread, payload) => kept.push(...decodeFromProcess(payload)));
  reader.push(readBuffer.subarray(0, frame.length), true);
  readBuffer.fill(0x42); // the next read
  const got = kept[0] as Extract<FromProcess, { t: "send" }>;
  assertEquals(got.blob!.bytes, blob);
});
