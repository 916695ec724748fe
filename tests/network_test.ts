/** Nodes talking over Noise links on loopback: direct, routed, TCP and WebSocket. */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { inject, injectJson, waitFor } from "../runtime/testing.ts";
import { bootNet } from "./net_helpers.ts";

const NU = "netuser:netuser:test.os";
type Call = { ok?: { echo: string; from: string }; err?: string; ms: number };

Deno.test("net: a request crosses to another node and its response comes back", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const r = await injectJson<Call>(net.nodes["b.dev"], NU, { Call: { target: `a.dev@${NU}`, body: "hello" } });
    assertEquals(r.ok, { echo: '"hello"', from: `b.dev@${NU}`, caps: [] });
    const link = net.nodes["b.dev"].net!.peers.current("a.dev")!;
    assertEquals(link.transport, "tcp", "TCP comes first in the book's priority order");
    // the link is reused
    await injectJson(net.nodes["a.dev"], NU, { Call: { target: `b.dev@${NU}` } });
    assertEquals(net.nodes["b.dev"].net!.peers.all().length, 1);
  } finally {
    await net.close();
  }
});

Deno.test("net: hi prints in the other node's terminal", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} }, { install: [] });
  try {
    net.nodes["b.dev"].terminal.command("hi a.dev hello there!");
    await waitFor(
      "hello in a.dev's terminal",
      () => net.nodes["a.dev"].lines.some((l) => l.includes("b.dev\x1b[0m: hello there!")),
    );
    await waitFor(
      "confirmation in b.dev's terminal",
      () => net.nodes["b.dev"].lines.some((l) => /hi: a.dev got it/.test(l)),
    );
    net.nodes["b.dev"].terminal.command("top");
    await waitFor("peers in top", () => net.nodes["b.dev"].lines.some((l) => /a\.dev\s+tcp out/.test(l)));
  } finally {
    await net.close();
  }
});

Deno.test("net: an indirect node is reached through its router, both ways", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {}, "c.dev": { routers: ["a.dev"] } });
  try {
    await waitFor("c.dev to link to its router", () => !!net.nodes["c.dev"].net!.peers.current("a.dev"));
    const r = await injectJson<Call>(net.nodes["b.dev"], NU, { Call: { target: `c.dev@${NU}`, body: "via a" } });
    assertEquals(r.ok, { echo: '"via a"', from: `b.dev@${NU}`, caps: [] });
    const back = await injectJson<Call>(net.nodes["c.dev"], NU, { Call: { target: `b.dev@${NU}`, body: "direct" } });
    assertEquals(back.ok?.echo, '"direct"');
    assertMatch(net.nodes["a.dev"].net!.diagnostics(), /routed 1 connections/);
    assertEquals(net.nodes["c.dev"].net!.tcpPort, 0, "an indirect node listens on nothing");
  } finally {
    await net.close();
  }
});

Deno.test("net: WebSocket carries the protocol when a node publishes only ws", async () => {
  const net = await bootNet({ "a.dev": { publish: ["ws"] }, "b.dev": {} });
  try {
    const big = "x".repeat(300_000);
    const r = await injectJson<Call>(net.nodes["b.dev"], NU, { Call: { target: `a.dev@${NU}`, body: big } });
    assertEquals(r.ok?.echo.length, big.length + 2);
    assertEquals(net.nodes["b.dev"].net!.peers.current("a.dev")!.transport, "ws");
  } finally {
    await net.close();
  }
});

Deno.test("net: Offline comes fast for unknown or unreachable nodes; Timeout when no answer comes", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    // Each call may wait 60 s: Offline well before that is Offline at once, not a timeout renamed, whatever the
    // machine's load (a bound in milliseconds failed on a loaded machine).
    const unknown = await injectJson<Call>(net.nodes["b.dev"], NU, {
      Call: { target: `nobody.dev@${NU}`, timeout: 60 },
    }, 90);
    assertEquals(unknown.err, "Offline");
    assert(unknown.ms < 30_000, `unknown node took ${unknown.ms} ms`);
    // a registered node that is gone
    const home = net.nodes["a.dev"].opts.home;
    await net.nodes["a.dev"].shutdown();
    const gone = await injectJson<Call>(net.nodes["b.dev"], NU, { Call: { target: `a.dev@${NU}`, timeout: 60 } }, 90);
    assertEquals(gone.err, "Offline");
    assert(gone.ms < 30_000, `dead node took ${gone.ms} ms`);
    await Deno.remove(home, { recursive: true });
    delete net.nodes["a.dev"];
    // a process on a live node that never answers: Timeout
    const silent = await injectJson<Call>(net.nodes["b.dev"], NU, {
      Call: { target: `b.dev@terminal:terminal:sys`, timeout: 1 },
    });
    assertEquals(silent.err, "Offline", "a local process we may not message fails Offline at once");
  } finally {
    await net.close();
  }
});

Deno.test("net: a remote process that does not answer gives Timeout", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    // a.dev's terminal app takes the message but answers no one but its own node
    const r = await injectJson<Call>(net.nodes["b.dev"], NU, {
      Call: { target: "a.dev@terminal:terminal:sys", timeout: 1 },
    });
    assertEquals(r.err, "Timeout");
    // Not before its 1 s; late on a busy machine, but not some other timeout's.
    assert(r.ms >= 900 && r.ms < 8000, `${r.ms} ms`);
  } finally {
    await net.close();
  }
});

Deno.test("net API: Sign and Verify prepend the address; GetPeers, GetPeer, GetDiagnostics", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const b = net.nodes["b.dev"];
    assertEquals(await injectJson(b, NU, { SignVerify: {} }), {
      signed: "Signed",
      ok: true,
      tampered: false,
      otherFrom: false,
    });
    await injectJson(b, NU, { Call: { target: `a.dev@${NU}` } });
    const peers = await injectJson<{ Peers: { name: string; routing: unknown }[] }>(b, NU, { Peers: {} });
    assertEquals(peers.Peers.map((p) => p.name), ["a.dev"]);
    const peer = await injectJson<{ Peer: { name: string; networking_key: string } }>(b, NU, {
      Peer: { name: "a.dev" },
    });
    assertMatch(peer.Peer.networking_key, /^0x[0-9a-f]{64}$/);
    const diag = await injectJson<{ Diagnostics: string }>(b, NU, { Diagnostics: {} });
    assertMatch(diag.Diagnostics, /a\.dev\s+tcp out\s+1\/1 msgs/);
  } finally {
    await net.close();
  }
});

Deno.test("net API: registry updates from a userspace process are refused", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const b = net.nodes["b.dev"];
    const before = b.net!.hns.get("a.dev");
    await injectJson(b, NU, {
      ForgeHns: {
        update: { name: "a.dev", public_key: "00".repeat(32), ips: ["127.0.0.1"], ports: { tcp: 1 }, routers: [] },
      },
    });
    await waitFor("the refusal", () => b.lines.some((l) => l.includes("refused HnsUpdate")));
    assertEquals(b.net!.hns.get("a.dev"), before);
  } finally {
    await net.close();
  }
});

Deno.test("net: two nodes dialing each other at once end with one link", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const [x, y] = await Promise.all([
      injectJson<Call>(net.nodes["a.dev"], NU, { Call: { target: `b.dev@${NU}` } }),
      injectJson<Call>(net.nodes["b.dev"], NU, { Call: { target: `a.dev@${NU}` } }),
    ]);
    assert(x.ok && y.ok, JSON.stringify([x, y]));
    await waitFor(
      "one link each",
      () => net.nodes["a.dev"].net!.peers.all().length === 1 && net.nodes["b.dev"].net!.peers.all().length === 1,
      6000,
    );
    // and both agree which one it is: the one a.dev (first by name) dialed
    assertEquals(net.nodes["a.dev"].net!.peers.current("b.dev")!.initiatedByUs, true);
    assertEquals(net.nodes["b.dev"].net!.peers.current("a.dev")!.initiatedByUs, false);
  } finally {
    await net.close();
  }
});

Deno.test("net: idle links are closed, and the next message opens a new one", async () => {
  const net = await bootNet({ "a.dev": { idleMs: 300 }, "b.dev": { idleMs: 300 } });
  try {
    await injectJson(net.nodes["b.dev"], NU, { Call: { target: `a.dev@${NU}` } });
    await waitFor("the idle link to close", () => net.nodes["b.dev"].net!.peers.all().length === 0, 5000);
    const r = await injectJson<Call>(net.nodes["b.dev"], NU, { Call: { target: `a.dev@${NU}` } });
    assert(r.ok, JSON.stringify(r));
  } finally {
    await net.close();
  }
});

Deno.test("net: inject-message -n reaches a process on another node and brings its answer back", async () => {
  const net = await bootNet({ "a.dev": {}, "b.dev": {} });
  try {
    const r = await inject(net.nodes["b.dev"], NU, '"from outside"', { nodeName: "a.dev" });
    assertEquals(JSON.parse(r.body!), { echo: '"from outside"', from: "b.dev@http-server:distro:sys", caps: [] });
  } finally {
    await net.close();
  }
});

Deno.test("net: when the node running the dev chain stops, another starts one and everyone registers again", async () => {
  const { freePort } = await import("./cli_helpers.ts");
  const { bootNode, removeHome } = await import("../runtime/testing.ts");
  const chainPort = freePort();
  const a = await bootNode({ name: "a.dev", network: { chainPort } });
  const b = await bootNode({ name: "b.dev", network: { chainPort } });
  await waitFor("a to know b", () => a.net!.hns.has("b.dev"));
  assert(a.lines.some((l) => l.includes("started anvil there")), "a started the chain");
  await a.shutdown();
  await removeHome(a);
  await waitFor("b to take over the chain", () => b.lines.some((l) => l.includes("went away")), 10_000);
  const c = await bootNode({ name: "c.dev", network: { chainPort } });
  try {
    await waitFor("b and c to know each other", () => b.net!.hns.has("c.dev") && c.net!.hns.has("b.dev"), 10_000);
    const { install } = await import("../runtime/testing.ts");
    const { FIXTURES } = await import("./helpers.ts");
    await install(b, `${FIXTURES}netuser`);
    await install(c, `${FIXTURES}netuser`);
    const r = await injectJson<Call>(c, NU, { Call: { target: `b.dev@${NU}` } });
    assert(r.ok, JSON.stringify(r));
  } finally {
    for (const n of [b, c]) {
      await n.shutdown();
      await removeHome(n);
    }
  }
});
