/**
 * Run by httpc_netns_test.ts inside `unshare --net --mount`: a network
 * namespace holding only its own loopback interface, so nothing sent here
 * can leave the machine. In it this script gives lo addresses that are not
 * loopback ones (203.0.113.7 stands for a server on the internet,
 * 169.254.169.254 and fd00:ec2::254 for the cloud metadata service), answers
 * DNS for the namespace (resolv.conf on a private mount), boots a node with
 * tests/fixtures/httpc_app installed, has its processes make the requests,
 * and prints what each got and what each server saw as one JSON line.
 *
 * Usage: deno run -A tests/httpc_netns_probe.ts <dir holding ca.pem, cert.pem, key.pem>
 */
import dgram from "node:dgram";
import { Buffer } from "node:buffer";
import * as packet from "dns-packet";
import { bootNode, injectJson, install, removeHome } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

const PUBLIC = "203.0.113.7";
const METADATA = "169.254.169.254";
const METADATA_V6 = "fd00:ec2::254";
const dir = Deno.args[0];

async function run(cmd: string, ...args: string[]) {
  const out = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

if ((await Deno.readTextFile("/proc/net/route")).split("\n").some((l) => /^\w+\s+00000000/.test(l))) {
  throw new Error("this namespace has a default route: run me under unshare --net");
}
await run("ip", "link", "set", "lo", "up");
await run("ip", "addr", "add", `${PUBLIC}/32`, "dev", "lo");
await run("ip", "addr", "add", `${METADATA}/32`, "dev", "lo");
await run("ip", "-6", "addr", "add", `${METADATA_V6}/128`, "dev", "lo");
await Deno.writeTextFile(`${dir}/resolv.conf`, "nameserver 127.0.0.1\noptions attempts:1\n");
await run("mount", "--bind", `${dir}/resolv.conf`, "/etc/resolv.conf");

// ---- DNS: A answers for the test's names. rebind.test answers a public address once, then loopback: a client
// that checks one answer and connects by another lookup (the platform's own) would reach loopback.
const results: Record<string, unknown> = {};
const aQueries: Record<string, number> = {};
const dns = dgram.createSocket("udp4");
dns.on("message", (msg: Buffer, from: { address: string; port: number }) => {
  const q = packet.decode(msg);
  const question = q.questions?.[0];
  if (!question) return;
  const name = question.name.toLowerCase();
  const table: Record<string, () => string> = {
    "public.test": () => PUBLIC,
    "wrong.test": () => PUBLIC,
    "metadata.test": () => METADATA,
    "rebind.test": () => aQueries[name] === 1 ? PUBLIC : "127.0.0.1",
  };
  const known = name in table;
  if (known && question.type === "A") aQueries[name] = (aQueries[name] ?? 0) + 1;
  const answers = known && question.type === "A" ? [{ type: "A", name, ttl: 0, data: table[name]() }] : [];
  const NXDOMAIN = 3;
  const flags = packet.AUTHORITATIVE_ANSWER | packet.RECURSION_AVAILABLE | (known ? 0 : NXDOMAIN);
  dns.send(
    packet.encode({ type: "response", id: q.id, flags, questions: q.questions, answers }),
    from.port,
    from.address,
  );
});
await new Promise<void>((resolve) => dns.bind(53, "127.0.0.1", resolve));

// ---- Servers, each counting what reached it.
const hits: Record<string, string[]> = { public: [], publicTls: [], metadata: [], loopback: [], secret: [] };
const quiet = { onListen() {} };
const serve = (label: string, hostname: string, port: number, f: (url: URL) => Response, tls = {}) =>
  Deno.serve({ hostname, port, ...quiet, ...tls }, (req) => {
    const url = new URL(req.url);
    hits[label].push(url.pathname);
    if (url.pathname === "/ws") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => socket.send("hello over wss");
      return response;
    }
    return f(url);
  });
const secret = serve("secret", "127.0.0.1", 0, () => new Response("secret"));
const secretUrl = `http://127.0.0.1:${secret.addr.port}/secret`;
const servers = [
  secret,
  serve(
    "public",
    PUBLIC,
    80,
    (url) =>
      url.pathname === "/redirect"
        ? Response.redirect(secretUrl, 302)
        : url.pathname === "/to-metadata"
        ? Response.redirect(`http://${METADATA}/latest/meta-data/`, 302)
        : new Response("public"),
  ),
  serve("publicTls", PUBLIC, 443, () => new Response("public over tls"), {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  }),
  serve("metadata", METADATA, 80, () => new Response("iam/security-credentials")),
  serve("metadata", METADATA_V6, 80, () => new Response("iam/security-credentials")),
  serve("loopback", "127.0.0.1", 80, () => new Response("loopback")),
];

// ---- The node, and the requests.
const node = await bootNode({ name: "netns.dev" });
try {
  await install(node, `${FIXTURES}httpc_app`);
  const as = (who: string) => `${who}:httpc-app:test.os`;
  const fetchAs = (who: string, url: string) =>
    injectJson(node, as(who), { Fetch: { url, timeout: 10 } }, 20).then(summary);
  const openAs = (who: string, url: string, channel: number) =>
    injectJson(node, as(who), { WsOpen: { url, channel } }, 20).then(summary);

  for (
    const url of [
      `http://${METADATA}/latest/meta-data/`,
      `http://[${METADATA_V6}]/latest/meta-data/`,
      `http://[::ffff:${METADATA}]/`,
      "http://2852039166/",
      "http://metadata.test/latest/meta-data/",
      `ws://${METADATA}/ws`,
    ]
  ) results[`boxed ${url}`] = url.startsWith("ws") ? await openAs("boxed", url, 1) : await fetchAs("boxed", url);

  results["boxed public address"] = await fetchAs("boxed", `http://${PUBLIC}/`);
  results["boxed public name"] = await fetchAs("boxed", "http://public.test/");

  for (const path of ["redirect", "to-metadata"]) {
    const first = await fetchAs("boxed", `http://public.test/${path}`) as { status?: number; location?: string };
    results[`boxed ${path} hop 1`] = first;
    results[`boxed ${path} hop 2`] = first.location ? await fetchAs("boxed", first.location) : "no Location";
  }
  results["client redirect hop 2"] = await fetchAs("client", secretUrl);

  results["boxed rebind"] = [];
  for (let i = 0; i < 2; i++) {
    (results["boxed rebind"] as unknown[]).push(await fetchAs("boxed", "http://rebind.test/"));
  }
  results["rebind A queries"] = aQueries["rebind.test"] ?? 0;

  results["boxed https name"] = await fetchAs("boxed", "https://public.test/");
  results["boxed https wrong name"] = await fetchAs("boxed", "https://wrong.test/");
  results["boxed https address"] = await fetchAs("boxed", `https://${PUBLIC}/`);
  results["boxed wss name"] = await openAs("boxed", "wss://public.test/ws", 2);
  results["boxed wss wrong name"] = await openAs("boxed", "wss://wrong.test/ws", 3);
  results.hits = hits;
} finally {
  await node.shutdown();
  await removeHome(node);
  for (const s of servers) await s.shutdown();
  dns.close();
}
console.log(JSON.stringify(results));

/** A Fetch or WsOpen outcome in brief: status and body (or Location), or the error's variant and text. */
function summary(o: unknown): unknown {
  const r = o as {
    ok?: { status: number; body: string; headers: Record<string, string> } | null;
    err?: Record<string, Record<string, string>>;
  };
  if (r.ok === null) return { opened: true };
  if (r.ok) return { status: r.ok.status, body: r.ok.body, location: r.ok.headers["Location"] };
  if (r.err) {
    const [kind, v] = Object.entries(r.err)[0];
    return { err: kind, why: v.reason ?? v.error ?? v.url };
  }
  return o;
}
