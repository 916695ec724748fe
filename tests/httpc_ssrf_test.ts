/**
 * Issue 18, point 3: a package uses http-client to reach local services.
 * The package is tests/fixtures/httpc_app, built and installed like any
 * other: its `boxed` process asks only for http-client's messaging
 * capability, its `client` process (the same code) also for local-network.
 * Each attack is made by `boxed` and refused; `client` then shows the target
 * was really there to reach. Attacks on addresses that are not on this
 * machine (169.254.169.254, ...) run in a network namespace of their own:
 * httpc_netns_test.ts.
 */
import { assert, assertEquals } from "./assert.ts";
import { bootNode, injectJson, removeHome, startChain, type TestNode, withNode } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";
import { startServers } from "./httpc_servers.ts";

const BOXED = "boxed:httpc-app:test.os";
const CLIENT = "client:httpc-app:test.os";

interface Outcome {
  ok?: { status: number; body: string };
  err?: Record<string, { reason?: string; address?: string }>;
}

const fetchAs = (n: TestNode, who: string, args: Record<string, unknown>) =>
  injectJson<Outcome>(n, who, { Fetch: { timeout: 10, ...args } }, 20);

/** Asserts `o` is an AddressRefused whose reason names the capability that would allow it. */
function assertRefused(o: Outcome, what: string) {
  const refused = o.err?.AddressRefused;
  assert(refused, `${what} was not refused: ${JSON.stringify(o)}`);
  assert(refused.reason!.includes(`{"process":"http-client:distro:sys","params":"local-network"}`), refused.reason);
}

const postJson = (url: string, body: unknown) => ({
  url,
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

Deno.test("http-client: a package cannot read another node's process map or install on it over 127.0.0.1", () =>
  withNode([`${FIXTURES}httpc_app`], async (a) => {
    const b = await bootNode({ name: "other.dev" });
    try {
      const debug = {
        process: "kernel:distro:sys",
        body: JSON.stringify({ Debug: "ProcessMap" }),
        expects_response: 5,
      };
      for (const host of ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "127.1", "app.localhost"]) {
        assertRefused(
          await fetchAs(a, BOXED, postJson(`http://${host}:${b.port}/rpc:distro:sys/message`, debug)),
          host,
        );
        const install = postJson(`http://${host}:${b.port}/rpc:distro:sys/install`, {
          package_id: "x:y.os",
          files: {},
        });
        assertRefused(await fetchAs(a, BOXED, install), `install via ${host}`);
      }
      assert(a.lines.some((l) => l.includes(`refused ${BOXED}'s request to 127.0.0.1:${b.port}`)), "the log says so");

      // The same code holding local-network reads it: the attack was real.
      const got = await fetchAs(a, CLIENT, postJson(`http://127.0.0.1:${b.port}/rpc:distro:sys/message`, debug));
      assertEquals(got.ok?.status, 200, JSON.stringify(got));
      assert(got.ok!.body.includes("ProcessMap"), got.ok!.body.slice(0, 200));

      // What each asked for is on the install's lines, the local reach spelled out.
      const granted = (p: string) => a.lines.find((l) => l.includes(`granted process ${p}:`)) ?? "";
      assert(granted(BOXED).includes("capabilities [http-client:distro:sys];"), granted(BOXED));
      assert(
        granted(CLIENT).includes('http-client:distro:sys "local-network" (may reach this machine'),
        granted(CLIENT),
      );
    } finally {
      await b.shutdown();
      await removeHome(b);
    }
  }));

Deno.test("http-client: a package cannot reach the dev chain's RPC and its unlocked accounts", () =>
  withNode([`${FIXTURES}httpc_app`], async (n) => {
    const chain = await startChain();
    try {
      const accounts = { jsonrpc: "2.0", id: 1, method: "eth_accounts", params: [] };
      for (const url of [chain.url, `http://localhost:${chain.port}/`, `http://[::ffff:7f00:1]:${chain.port}/`]) {
        assertRefused(await fetchAs(n, BOXED, postJson(url, accounts)), url);
      }
      const got = await fetchAs(n, CLIENT, postJson(chain.url, accounts));
      assertEquals(JSON.parse(got.ok!.body).result.length, 10, "anvil's ten unlocked accounts, for a process allowed");
    } finally {
      await chain.stop();
    }
  }));

Deno.test("http-client: every spelling of this machine is refused before a connection, HTTP and WebSocket", () =>
  withNode([`${FIXTURES}httpc_app`], async (n) => {
    const s = startServers();
    try {
      const port = new URL(s.http).port;
      const hosts = [
        "127.0.0.1",
        "2130706433",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "0x7f000001",
        "127.1",
        "127.0.0.1.",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "0.0.0.0",
        "0",
        "[::]",
        "[::1]",
        "localhost",
        "LOCALHOST.",
        "foo.localhost",
      ];
      for (const host of hosts) {
        assertRefused(await fetchAs(n, BOXED, { url: `http://${host}:${port}/echo` }), host);
        const ws = await injectJson<Outcome>(n, BOXED, { WsOpen: { url: `ws://${host}:${port}/ws`, channel: 1 } });
        assertRefused(ws, `ws://${host}`);
      }
      const redirect = await fetchAs(n, BOXED, { url: `${s.http}/redirect` });
      assertRefused(redirect, "a redirect's first hop");
      assertEquals(s.hits, [], "nothing reached the server");
      assertEquals(s.sockets.length, 0);

      // With local-network, loopback by any of those names works.
      for (const host of ["127.1", "localhost", "foo.localhost", "[::ffff:127.0.0.1]"]) {
        assertEquals((await fetchAs(n, CLIENT, { url: `http://${host}:${port}/echo` })).ok?.status, 200, host);
      }
      assertEquals(await injectJson(n, CLIENT, { WsOpen: { url: `ws://localhost:${port}/ws`, channel: 1 } }), {
        ok: null,
      });
      assertEquals(s.hits.length, 5);
    } finally {
      await s.close();
    }
  }));
