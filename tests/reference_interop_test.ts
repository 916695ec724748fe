/**
 * A hyperdeno node and a peer that speaks the reference protocol as
 * Hyperdrive does (tests/reference_peer.ts: its own framing, rmp-serde's
 * shapes and strictness): hello and ack both ways over TCP and WebSocket,
 * 64-bit ids carried back unchanged, capabilities checked by signature.
 */
import { assert, assertEquals } from "./assert.ts";
import { bootNet } from "./net_helpers.ts";
import { encodeRequest, encodeResponse, ReferencePeer } from "./reference_peer.ts";
import { injectJson, waitFor } from "../runtime/testing.ts";
import { capabilitySigningBytes } from "../modules/net/wire.ts";

const NU = "netuser:netuser:test.os";
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

for (const over of ["tcp", "ws"] as const) {
  Deno.test(`reference peer (${over}): its hello is printed and acked with its own 64-bit id`, async () => {
    const net = await bootNet({ "a.dev": {} }, { install: [] });
    const ref = await ReferencePeer.start(net, "ref.dev", "a.dev");
    try {
      const link = await ref.dial(net, "a.dev", over);
      const id = 0xfedcba9876543210n;
      await link.send(encodeRequest(id, "ref.dev@net:distro:sys", "a.dev@net:distro:sys", bytes("hello from afar")));
      const ack = await link.recv();
      assertEquals(ack.id, id, "the reply carries the request's id back unchanged");
      assertEquals([ack.source, ack.target, text(ack.response!.body)], [
        "a.dev@net:distro:sys",
        "ref.dev@net:distro:sys",
        "ack",
      ]);
      await waitFor("the hello printed", () => net.nodes["a.dev"].lines.some((l) => l.includes("hello from afar")));
      link.close();
    } finally {
      ref.close();
      await net.close();
    }
  });
}

Deno.test("reference peer: a hyperdeno node dials it, says hi, and hears its ack", async () => {
  const net = await bootNet({ "a.dev": {} }, { install: [] });
  const ref = await ReferencePeer.start(net, "ref.dev", "a.dev");
  try {
    const accepted = ref.accept((n) => net.nodes["a.dev"].net!.keyOf(n));
    net.nodes["a.dev"].terminal.command("hi ref.dev hello reference");
    const { link, peer } = await accepted;
    assertEquals(peer, "a.dev");
    // Decoded with rmp-serde's strictness: any bin would have thrown.
    const hello = await link.recv();
    assertEquals(text(hello.request!.body), "hello reference");
    assertEquals(hello.target, "ref.dev@net:distro:sys");
    await link.send(encodeResponse(hello.id, "ref.dev@net:distro:sys", hello.rsvp ?? hello.source, bytes("ack")));
    await waitFor("hi's confirmation", () => net.nodes["a.dev"].lines.some((l) => /hi: ref.dev got it/.test(l)));
    assertEquals(net.nodes["a.dev"].net!.peers.current("ref.dev")!.form, "ints", "no bin for a reference peer");
    link.close();
  } finally {
    ref.close();
    await net.close();
  }
});

Deno.test("reference peer: capabilities keep only those whose issuer signed them", async () => {
  const net = await bootNet({ "a.dev": {} });
  const ref = await ReferencePeer.start(net, "ref.dev", "a.dev");
  try {
    const link = await ref.dial(net, "a.dev");
    const signed = (issuer: string, params: string) => ref.sign(capabilitySigningBytes({ issuer, params }));
    const caps: [string, string, Uint8Array][] = [
      ["ref.dev@x:y:z.os", "genuine", signed("ref.dev@x:y:z.os", "genuine")],
      ["ref.dev@x:y:z.os", "tampered", signed("ref.dev@x:y:z.os", "other")],
      // A capability claiming a.dev issued it, signed by someone else: the reference drops it too.
      ["a.dev@vfs:distro:sys", '{"kind":"write","drive":"/"}', signed("a.dev@vfs:distro:sys", "x")],
      ["ref.dev@x:y:z.os", "unsigned", new Uint8Array()],
    ];
    await link.send(encodeRequest(0xffffffffffffffffn, "ref.dev@x:y:z.os", `a.dev@${NU}`, bytes('"hi"'), caps));
    const answer = await link.recv();
    assertEquals(answer.id, 0xffffffffffffffffn);
    const got = JSON.parse(text(answer.response!.body));
    assertEquals(got, { echo: '"hi"', from: "ref.dev@x:y:z.os", caps: ["genuine"] });
    link.close();
  } finally {
    ref.close();
    await net.close();
  }
});

Deno.test("reference peer: a node sends a capability it issued with its own signature", async () => {
  const net = await bootNet({ "a.dev": {} });
  const ref = await ReferencePeer.start(net, "ref.dev", "a.dev");
  try {
    const accepted = ref.accept((n) => net.nodes["a.dev"].net!.keyOf(n));
    // netuser's Call sends with the messaging capability for itself attached (GrantCap).
    const call = injectJson(net.nodes["a.dev"], NU, {
      Call: { target: "ref.dev@x:y:z.os", body: "with a cap", grant: true },
    });
    const { link } = await accepted;
    const req = await link.recv();
    const key = net.nodes["a.dev"].net!.keyOf("a.dev")!;
    const { ed25519 } = await import("@noble/curves/ed25519.js");
    assert(req.request!.caps.length >= 1, "a capability came along");
    for (const [issuer, params, sig] of req.request!.caps) {
      assert(ed25519.verify(sig, capabilitySigningBytes({ issuer, params }), key), `${params} is signed by a.dev`);
    }
    await link.send(encodeResponse(req.id, "ref.dev@x:y:z.os", req.rsvp!, bytes('"ok"')));
    assertEquals((await call as { ok: string }).ok, "ok");
    link.close();
  } finally {
    ref.close();
    await net.close();
  }
});
