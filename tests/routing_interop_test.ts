/**
 * Routing as Hyperdrive does it, against peers that speak its wire
 * (tests/reference_peer.ts): a hyperdeno indirect node asks its routers with
 * proxy_request and answers their ConnectionRequests Accepted or Rejected; a
 * hyperdeno router routes only for peers that asked, sends its
 * ConnectionRequest as the reference's router does, and drops a waiting
 * connection at once when the answer is Rejected.
 */
import { assert, assertEquals } from "./assert.ts";
import { decode, encode } from "@msgpack/msgpack";
import { bootNet, type Net } from "./net_helpers.ts";
import { encodeRequest, type KeyOf, ReferencePeer, type RefMessage } from "./reference_peer.ts";
import { injectJson, startChain, waitFor } from "../runtime/testing.ts";

const NU = "netuser:netuser:test.os";
type Call = { ok?: { echo: string }; err?: string };

const answerTo = (ref: ReferencePeer, id: bigint): unknown => {
  const m = ref.seen.messages.find((m: RefMessage) => m.response && m.id === id);
  return m ? decode(m.response!.body) : undefined;
};
const printed = (net: Net, node: string, re: RegExp) => net.nodes[node].lines.some((l) => re.test(l));

Deno.test("routing: a hyperdeno indirect node asks its reference router with proxy_request, is reached through it, and takes ConnectionRequests only from it", async () => {
  const chain = await startChain();
  const ref = await ReferencePeer.listening(chain, "ref.dev");
  let net: Net | null = null;
  let evil: ReferencePeer | null = null;
  try {
    const keyOf: KeyOf = (n) => net?.nodes["b.dev"].net?.keyOf(n) ?? null;
    ref.serveAsRouter(keyOf);
    net = await bootNet({ "b.dev": {}, "c.dev": { routers: ["ref.dev"] } }, { chain });
    await waitFor("c.dev's handshake with its router", () => ref.seen.handshakes.some((h) => h.peer === "c.dev"));
    assertEquals(ref.seen.handshakes.find((h) => h.peer === "c.dev")!.proxyRequest, true, "c.dev asks to be routed");

    const r = await injectJson<Call>(net.nodes["b.dev"], NU, { Call: { target: `c.dev@${NU}`, body: "via ref" } });
    assertEquals(r.ok?.echo, '"via ref"', JSON.stringify({ r, refused: ref.seen.refused }));
    assertEquals(ref.seen.routed, ["b.dev>c.dev"]);
    // c.dev answers the router's ConnectionRequest (which the reference sends expecting one within 5 s).
    await waitFor("c.dev's answer", () => answerTo(ref, ref.seen.asked[0]) !== undefined);
    assertEquals(answerTo(ref, ref.seen.asked[0]), { Accepted: "b.dev" });

    // A ConnectionRequest it cannot serve (the router refuses its second leg) is answered Rejected.
    const id = await ref.askToConnect("c.dev", "b.dev");
    await waitFor("c.dev's Rejected", () => answerTo(ref, id) !== undefined);
    assertEquals(answerTo(ref, id), { Rejected: "b.dev" });

    // Another node reaches c.dev through its router and sends what only routers and the chain may: refused, unanswered.
    evil = await ReferencePeer.listening(chain, "evil.dev");
    await waitFor("evil.dev known", () => ["b.dev", "c.dev"].every((n) => net!.nodes[n].net!.hns.has("evil.dev")));
    const link = await evil.dialThrough("ref.dev", ref.port, "c.dev", keyOf);
    const netOf = (n: string) => `${n}@net:distro:sys`;
    const update = ["c.dev", "0x" + "00".repeat(32), ["127.0.0.1"], { tcp: 1 }, []];
    for (const body of [{ ConnectionRequest: "b.dev" }, { HnsUpdate: update }]) {
      await link.send(encodeRequest(1n, netOf("evil.dev"), netOf("c.dev"), encode(body)));
    }
    await waitFor(
      "c.dev's refusals",
      () =>
        printed(net!, "c.dev", /refused ConnectionRequest from evil\.dev: it is not one of our routers/) &&
        printed(net!, "c.dev", /refused HnsUpdate from evil\.dev/),
    );
    assert(
      !net.nodes["c.dev"].lines.some((l) => l.includes("evil.dev\x1b[0m: ")),
      "nothing of it is printed as a hello",
    );
    assertEquals(net.nodes["c.dev"].net!.hns.get("c.dev")!.ports, {}, "c.dev's registry is the chain's");
  } finally {
    evil?.close();
    ref.close();
    await net?.close();
    await chain.stop();
  }
});

Deno.test("routing: a hyperdeno router routes only for a reference indirect node that asked with proxy_request", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} }, { install: ["netuser"] });
  const keyOf: KeyOf = (n) => net.nodes["a.dev"].net!.keyOf(n);
  const plain = await ReferencePeer.indirect(net.chain, "refc.dev", ["a.dev"]);
  let asking: ReferencePeer | null = null;
  try {
    await waitFor("refc.dev known", () => ["a.dev", "b.dev"].every((n) => net.nodes[n].net!.hns.has("refc.dev")));
    const a = net.nodes["a.dev"].net!;
    await plain.joinRouter("a.dev", a.tcpPort, keyOf, { proxyRequest: false });
    await waitFor("refc.dev's link to a.dev", () => a.peers.all().some((l) => l.peer === "refc.dev"));
    const refused = await injectJson<Call>(net.nodes["b.dev"], NU, {
      Call: { target: `refc.dev@${NU}`, body: "x", timeout: 10 },
    });
    assertEquals(refused.err, "Offline", "no route for a peer that did not ask");
    await waitFor("a.dev's refusal", () => printed(net, "a.dev", /refc\.dev has not asked us to route for it/));
    plain.close();

    // The same name, now asking with proxy_request (a new key is not needed: the chain's key is the same).
    asking = plain.again();
    await asking.joinRouter("a.dev", a.tcpPort, keyOf);
    await waitFor("a.dev to route for refc.dev", () => !!a.router.routingFor("refc.dev"));
    net.nodes["b.dev"].terminal.command("hi refc.dev hello, reference");
    await waitFor("hi's confirmation", () => printed(net, "b.dev", /hi: refc\.dev got it/), 20_000);
    const cr = asking.seen.messages.find((m) => m.request && m.source === "a.dev@net:distro:sys")!;
    assertEquals(decode(cr.request!.body), { ConnectionRequest: "b.dev" });
    assertEquals([cr.request!.expects, cr.rsvp], [5, null], "as the reference's router: 5 s, no rsvp");
    assertEquals(asking.seen.routed, ["b.dev>refc.dev"]);
  } finally {
    plain.close();
    asking?.close();
    await net.close();
  }
});

Deno.test("routing: a Rejected answer drops the waiting connection at once, not after 5 s", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} }, { install: ["netuser"] });
  const refc = await ReferencePeer.indirect(net.chain, "refc.dev", ["a.dev"]);
  try {
    await waitFor("refc.dev known", () => ["a.dev", "b.dev"].every((n) => net.nodes[n].net!.hns.has("refc.dev")));
    const a = net.nodes["a.dev"].net!;
    await refc.joinRouter("a.dev", a.tcpPort, (n) => a.keyOf(n), { onRequest: "reject" });
    await waitFor("refc.dev's link to a.dev", () => a.peers.all().some((l) => l.peer === "refc.dev"));
    const r = await injectJson<Call>(net.nodes["b.dev"], NU, {
      Call: { target: `refc.dev@${NU}`, body: "x", timeout: 10 },
    });
    assertEquals(r.err, "Offline");
    assert(printed(net, "a.dev", /refc\.dev rejected the connection from b\.dev/), "a.dev acted on Rejected");
    assert(
      printed(net, "b.dev", /refc\.dev is unreachable/) && !printed(net, "b.dev", /timed out/),
      `b.dev saw its connection closed, not timed out:\n${net.nodes["b.dev"].lines.join("\n")}`,
    );
  } finally {
    refc.close();
    await net.close();
  }
});
