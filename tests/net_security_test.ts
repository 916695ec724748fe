/**
 * Hostile peers. Each attack is made by hand with the protocol's own parts;
 * each must close (or refuse) that connection, and the node must go on
 * serving its honest peers.
 */
import { assert, assertEquals } from "./assert.ts";
import { injectJson, registerOnChain, waitFor } from "../runtime/testing.ts";
import { bootNet, type Net } from "./net_helpers.ts";
import { LinkClosed, TcpFrames } from "../modules/net/frames.ts";
import { HandshakeState } from "../modules/net/noise.ts";
import { encodeHandshake, encodeKernelMessage, PROTOCOL_VERSION } from "../modules/net/wire.ts";
import { initiate } from "../modules/net/handshake.ts";
import { type NodeKeys, sign } from "../runtime/keys.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { utf8 } from "../runtime/types.ts";

const NU = "netuser:netuser:test.os";

function newKeys(): NodeKeys {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

async function dial(net: Net, name = "a.dev"): Promise<TcpFrames> {
  const port = net.nodes[name].net!.tcpPort;
  return new TcpFrames(await Deno.connect({ hostname: "127.0.0.1", port }));
}

/**
 * The connection is closed by the node: reading from it ends. Some closes come at the 5 s handshake deadline, whose
 * timer a busy machine runs late: the bound only catches a connection held for good.
 */
async function closedByNode(ch: TcpFrames, ms = 20_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      await Promise.race([ch.recv(), new Promise((_, rej) => setTimeout(() => rej(new Error("wait")), 200))]);
    } catch (e) {
      if (e instanceof LinkClosed) return true;
    }
  }
  return false;
}

async function stillServes(net: Net) {
  const r = await injectJson<{ ok?: unknown }>(net.nodes["b.dev"], NU, {
    Call: { target: `a.dev@${NU}`, body: "still?" },
  });
  assert(r.ok, `a.dev stopped serving: ${JSON.stringify(r)}`);
}

/** Registers a raw identity with the chain so a hand-made peer can speak as it. */
async function rawPeer(net: Net, name: string, keys = newKeys()) {
  await registerOnChain(net.chain, name, keys.publicKey);
  await waitFor(`${name} known to a.dev`, () => net.nodes["a.dev"].net!.hns.has(name));
  return keys;
}

Deno.test("net security: random bytes, truncated and oversized frames close the connection", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    for (
      const bytes of [
        crypto.getRandomValues(new Uint8Array(5000)),
        Uint8Array.of(0, 32, 1, 2, 3), // a frame announcing 32 bytes, then hanging up after 3
        Uint8Array.of(0xff, 0xff, ...new Uint8Array(100)), // 65535 announced, 100 sent
      ]
    ) {
      const ch = await dial(net);
      await ch.conn.write(bytes);
      if (bytes.length < 200) ch.conn.closeWrite();
      assert(await closedByNode(ch), "the node closed the connection");
      ch.close();
    }
    // An honest handshake, then a transport message announcing more than 10 MB (TCP: its length in the clear).
    const keys = await rawPeer(net, "evil.dev");
    const ch = await dial(net);
    await initiate(ch, { name: "evil.dev", keys }, "a.dev", (n) => net.nodes["a.dev"].net!.keyOf(n), 5000);
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, 20_000_000);
    await ch.send([], head);
    assert(await closedByNode(ch), "an oversized message closes the link");
    await stillServes(net);
  } finally {
    await net.close();
  }
});

Deno.test("net security: a handshake signed by the wrong key, or naming another node, is refused", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    await rawPeer(net, "mallory.dev");
    // Signed by a key that is not mallory.dev's registered one.
    const wrong = newKeys();
    const ch = await dial(net);
    const err = await initiate(
      ch,
      { name: "mallory.dev", keys: wrong },
      "a.dev",
      (n) => net.nodes["a.dev"].net!.keyOf(n),
      5000,
    )
      .then(() => null, (e) => e);
    assert(err === null || err, "the initiator side may finish; the node must not accept");
    assert(await closedByNode(ch), "wrong-key handshake closed");
    // Claiming to be b.dev (an honest node) with mallory's own key.
    const ch2 = await dial(net);
    const mk = newKeys();
    await initiate(ch2, { name: "b.dev", keys: mk }, "a.dev", (n) => net.nodes["a.dev"].net!.keyOf(n), 5000).catch(
      () => {},
    );
    assert(await closedByNode(ch2), "impersonation closed");
    assertEquals(net.nodes["a.dev"].net!.peers.current("mallory.dev"), undefined);
    await stillServes(net);
  } finally {
    await net.close();
  }
});

Deno.test("net security: a replayed handshake gets nowhere", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const keys = await rawPeer(net, "replay.dev");
    // Record an honest handshake's messages from the initiator side.
    const ch = await dial(net);
    const hs = new HandshakeState({ initiator: true });
    const m1 = hs.writeMessage(new Uint8Array());
    await ch.send([m1]);
    hs.readMessage(await ch.recv());
    const m3 = hs.writeMessage(
      encodeHandshake({
        protocol_version: PROTOCOL_VERSION,
        name: "replay.dev",
        signature: sign(keys, hs.staticPublicKey),
        proxy_request: false,
      }),
    );
    await ch.send([m3]);
    await waitFor("the honest link", () => !!net.nodes["a.dev"].net!.peers.current("replay.dev"));
    // Replaying both messages on a new connection: the node answers with a fresh
    // ephemeral key, so the recorded third message no longer decrypts.
    const ch2 = await dial(net);
    await ch2.send([m1]);
    await ch2.recv();
    await ch2.send([m3]);
    assert(await closedByNode(ch2), "replay closed");
    ch.close();
    await stillServes(net);
  } finally {
    await net.close();
  }
});

Deno.test("net security: a message whose source is not the peer closes the link", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const keys = await rawPeer(net, "liar.dev");
    const ch = await dial(net);
    const link = await initiate(ch, { name: "liar.dev", keys }, "a.dev", (n) => net.nodes["a.dev"].net!.keyOf(n), 5000);
    await link.send(encodeKernelMessage(
      {
        id: 1n,
        source: `b.dev@${NU}`,
        target: `a.dev@${NU}`,
        rsvp: null,
        message: {
          Request: { inherit: false, expects_response: null, body: utf8('"x"'), metadata: null, capabilities: [] },
        },
        lazy_load_blob: null,
      },
      link.form,
      () => new Uint8Array(),
    ));
    assert(await closedByNode(ch), "a lying source closes the link");
    await waitFor(
      "the reason in the log",
      () => net.nodes["a.dev"].lines.some((l) => l.includes("claiming to be from b.dev")),
    );
    await stillServes(net);
  } finally {
    await net.close();
  }
});

Deno.test("net security: a flood of connections is bounded and the node keeps serving", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const conns: Deno.TcpConn[] = [];
    for (let i = 0; i < 150; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: net.nodes["a.dev"].net!.tcpPort }));
    }
    await waitFor("refusals", () => net.nodes["a.dev"].net!.refused > 0);
    await stillServes(net);
    for (const c of conns) c.close();
  } finally {
    await net.close();
  }
});

Deno.test("net fuzz: 40 rounds of mutated handshake and transport traffic", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const keys = await rawPeer(net, "fuzz.dev");
    // A count, not a time: a busy machine fits fewer rounds in 3 s (7 at a load average of 56), not a weaker node.
    for (let rounds = 1; rounds <= 40; rounds++) {
      const ch = await dial(net);
      try {
        if (rounds % 2) {
          // garbage after a valid first message
          const hs = new HandshakeState({ initiator: true });
          await ch.send([hs.writeMessage(new Uint8Array())]);
          await ch.recv();
          const junk = crypto.getRandomValues(new Uint8Array(1 + (rounds * 37) % 600));
          await ch.send([junk]);
        } else {
          // a real link, then a mutated ciphertext
          const link = await initiate(
            ch,
            { name: "fuzz.dev", keys },
            "a.dev",
            (n) => net.nodes["a.dev"].net!.keyOf(n),
            5000,
          );
          const bytes = crypto.getRandomValues(new Uint8Array(64));
          const out = (link as unknown as { out: { encrypt(b: Uint8Array): Uint8Array } }).out;
          const ct = out.encrypt(bytes);
          ct[rounds % ct.length] ^= 0x40;
          await ch.send([ct], Uint8Array.of(0, 0, 0, bytes.length));
        }
        await closedByNode(ch, 2000);
      } catch {
        /* the node hung up first */
      } finally {
        ch.close();
      }
    }
    await stillServes(net);
  } finally {
    await net.close();
  }
});
