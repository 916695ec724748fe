/**
 * http-client's destination check on its own (modules/http_client/
 * destination.ts, addresses.ts): every local range in IPv4 and IPv6, the odd
 * spellings a URL parser accepts, names whose DNS answer is local (with an
 * injected resolver: no DNS server here answers with what an attacker
 * would), and public addresses, which are classified and never connected to.
 * The same refusals through a node are in httpc_ssrf_test.ts.
 */
import { assert, assertEquals } from "./assert.ts";
import { AddressRefused, type DestinationPolicy, resolveDestination } from "../modules/http_client/destination.ts";
import { localRange } from "../modules/http_client/addresses.ts";

const unbracket = (host: string) => host.replace(/^\[(.*)\]$/, "$1");
const NO_DNS = () => Promise.reject(new Error("a literal address must not be looked up"));
const boxed: DestinationPolicy = { ownPorts: [8787], mayReachLocal: false, resolve: NO_DNS };
const trusted: DestinationPolicy = { ...boxed, mayReachLocal: true };

async function refusal(url: string, policy = boxed): Promise<AddressRefused> {
  try {
    const dest = await resolveDestination(new URL(url), policy);
    throw new Error(`${url} was allowed, to ${JSON.stringify(dest)}`);
  } catch (e) {
    if (e instanceof AddressRefused) return e;
    throw e;
  }
}

/** One address in each local range (first, last or inside), and the range its refusal names. */
const LOCAL: [string, string][] = [
  ["0.0.0.0", "0.0.0.0/8"],
  ["0.255.255.255", "0.0.0.0/8"],
  ["127.0.0.1", "127.0.0.0/8"],
  ["127.255.255.254", "127.0.0.0/8"],
  ["10.0.0.1", "10.0.0.0/8"],
  ["10.255.255.255", "10.0.0.0/8"],
  ["172.16.0.1", "172.16.0.0/12"],
  ["172.31.255.255", "172.16.0.0/12"],
  ["192.168.1.1", "192.168.0.0/16"],
  ["169.254.169.254", "169.254.0.0/16"],
  ["100.64.0.1", "100.64.0.0/10"],
  ["100.127.255.255", "100.64.0.0/10"],
  ["224.0.0.1", "224.0.0.0/4"],
  ["239.255.255.250", "224.0.0.0/4"],
  ["240.0.0.1", "240.0.0.0/4"],
  ["255.255.255.255", "255.255.255.255/32"],
  ["192.0.0.170", "192.0.0.0/24"],
  ["198.18.0.1", "198.18.0.0/15"],
  ["[::]", "::/128"],
  ["[::1]", "::1/128"],
  ["[::7f00:1]", "::/96"],
  ["[fc00::1]", "fc00::/7"],
  ["[fd00:ec2::254]", "fc00::/7"],
  ["[fe80::1]", "fe80::/10"],
  ["[febf:ffff::1]", "fe80::/10"],
  ["[fec0::1]", "fec0::/10"],
  ["[ff02::1]", "ff00::/8"],
  ["[100::1]", "100::/64"],
  ["[64:ff9b:1::a00:1]", "64:ff9b:1::/48"],
  ["[::ffff:127.0.0.1]", "127.0.0.0/8"],
  ["[::ffff:a9fe:a9fe]", "169.254.0.0/16"],
  ["[0:0:0:0:0:ffff:10.1.2.3]", "10.0.0.0/8"],
  ["[::ffff:0:192.168.0.1]", "192.168.0.0/16"],
  ["[64:ff9b::127.0.0.1]", "127.0.0.0/8"],
  ["[64:ff9b::a9fe:a9fe]", "169.254.0.0/16"],
  ["[2002:7f00:1::1]", "127.0.0.0/8"],
  ["[2002:c0a8:101::]", "192.168.0.0/16"],
  ["[2001:0:4136:e378:8000:63bf:80ff:fffe]", "127.0.0.0/8"], // Teredo, client 127.0.0.1 inverted
];

Deno.test("http-client refuses every local range, IPv4 and IPv6, embedded IPv4 forms included", async () => {
  for (const [host, cidr] of LOCAL) {
    const r = await refusal(`http://${host}/`);
    assert(r.reason.includes(`(${cidr})`), `${host}: ${r.reason}`);
    assert(r.reason.includes(`"params":"local-network"`), `${host}: the reason names the capability: ${r.reason}`);
  }
});

Deno.test("http-client refuses the odd spellings a URL parser accepts for loopback and metadata addresses", async () => {
  const spellings = [
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://0x7f.0.0.1/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://127.0.1/",
    "http://127.000.000.001/",
    "http://127.0.0.1./",
    "http://①②⑦.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[0:0:0:0:0:ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://0/",
    "http://2852039166/", // 169.254.169.254
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://0251.0376.0251.0376/",
    "ws://127.1:9/",
    "wss://[::1]/",
  ];
  for (const url of spellings) await refusal(url);
  for (const name of ["localhost", "LOCALHOST", "localhost.", "foo.localhost", "a.b.localhost..", "[::1]"]) {
    const r = await refusal(`http://${name}:81/`);
    assert(/RFC 6761|loopback/.test(r.reason), r.reason);
  }
});

Deno.test("http-client judges a name by every address it resolves to, looks it up once, and connects to the checked one", async () => {
  const answers: Record<string, string[]> = {
    "internal.example": ["10.0.0.5"],
    "mixed.example": ["93.184.215.14", "127.0.0.1"],
    "v6.example": ["2606:4700:4700::1111", "fe80::1"],
    "mapped.example": ["::ffff:169.254.169.254"],
    "garbage.example": ["not an address"],
  };
  const lookups: string[] = [];
  const resolve = (host: string) => (lookups.push(host), Promise.resolve(answers[host] ?? []));
  for (const host of Object.keys(answers)) {
    const r = await refusal(`http://${host}/`, { ...boxed, resolve });
    assert(r.reason.includes(`${host} resolves to it`) || r.reason.includes("no IP address"), r.reason);
  }
  assertEquals(lookups, Object.keys(answers), "one lookup per request");

  // A rebinding name answers public first, then loopback: the request goes to the address checked, not a second answer.
  let calls = 0;
  const rebinding = () => Promise.resolve(calls++ === 0 ? ["93.184.215.14"] : ["127.0.0.1"]);
  const dest = await resolveDestination(new URL("https://rebind.example/"), { ...boxed, resolve: rebinding });
  assertEquals([dest, calls], [{ address: "93.184.215.14", port: 443 }, 1]);
  await refusal("https://rebind.example/", { ...boxed, resolve: rebinding });

  const gone = resolveDestination(new URL("http://nowhere.example/"), { ...boxed, resolve });
  await gone.then(() => assert(false, "resolved"), (e) => assert(/could not resolve nowhere\.example/.test(e.message)));
});

Deno.test("http-client lets public addresses through, and local ones to a process holding local-network", async () => {
  const publics = [
    "8.8.8.8",
    "1.1.1.1",
    "11.0.0.1",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.0",
    "192.167.255.255",
    "192.169.0.0",
    "169.253.255.255",
    "169.255.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "223.255.255.255",
    "203.0.113.7",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
    "fbff::1",
    "fe00::1",
  ];
  for (const ip of publics) {
    assertEquals(localRange(ip), null, ip);
    const host = ip.includes(":") ? `[${ip}]` : ip;
    const address = unbracket(new URL(`https://${host}/`).hostname); // as the URL parser writes it
    assertEquals(await resolveDestination(new URL(`https://${host}:8443/`), boxed), { address, port: 8443 });
  }
  const viaDns = { ...boxed, resolve: () => Promise.resolve(["2606:4700:4700::1111", "1.1.1.1"]) };
  assertEquals(await resolveDestination(new URL("http://one.example/"), viaDns), {
    address: "2606:4700:4700::1111",
    port: 80,
  });

  for (const [host] of LOCAL) {
    const dest = await resolveDestination(new URL(`http://${host}:9000/`), trusted);
    assertEquals(dest.address, unbracket(new URL(`http://${host}/`).hostname));
  }
  const localhost = {
    ...trusted,
    resolve: (h: string) => Promise.resolve(h === "localhost" ? ["::1", "127.0.0.1"] : []),
  };
  assertEquals(await resolveDestination(new URL("http://app.localhost:9000/"), localhost), {
    address: "::1",
    port: 9000,
  });
});

Deno.test("http-client never calls the node's own port on this machine, whatever the process holds", async () => {
  for (const host of ["127.0.0.1", "127.1", "0.0.0.0", "[::1]", "[::]", "[::ffff:127.0.0.1]", "[::ffff:0.0.0.0]"]) {
    const r = await refusal(`http://${host}:8787/`, trusted);
    assert(r.reason.includes("this node's own port"), `${host}: ${r.reason}`);
  }
  const toLocalhost = { ...trusted, resolve: () => Promise.resolve(["127.0.0.1"]) };
  assert((await refusal("http://localhost:8787/", toLocalhost)).reason.includes("own port"));
  // Its port on another local address is another listener's: allowed with the capability.
  assertEquals(await resolveDestination(new URL("http://10.0.0.2:8787/"), trusted), {
    address: "10.0.0.2",
    port: 8787,
  });
});
