/**
 * Three hosts, not one machine: network namespaces joined by veth pairs, made
 * and removed by this test (it needs root and `ip`; it is skipped, saying why,
 * without them). Nothing leaves the machine: every address lives only inside
 * these namespaces.
 *
 *   ns I (i.dev, indirect)  10.77.1.2 ── 10.77.1.1  ns R (r.dev, router; anvil)
 *   ns T (t.dev, direct)    10.77.2.2 ── 10.77.2.1  ns R
 *
 * I reaches nothing but R (no route to T, and R does not forward packets);
 * T reaches R's published address through R's link. Each node runs in its
 * own OS process inside its namespace and publishes that namespace's address.
 * T reaches I through R (RoutingRequest, ConnectionRequest, I dials back); I
 * reaches T through R too (R passes its connection on to the direct node).
 * They say hi both ways and exchange a file each way with Kino Files, the
 * SHA-256 checked on both disks: 32 MiB each, or HYPERDENO_TWO_HOSTS_MIB
 * (100 for the full run; a router's throughput is what it adds).
 */
import { assert, assertEquals } from "./assert.ts";
import { cli, NodeProcess, RUN_FLAGS } from "./cli_helpers.ts";
import { FT_PKG, randomBytes, sha256 } from "./ft_helpers.ts";
import { anvilPath } from "../chain/anvil.ts";
import { waitFor } from "../runtime/testing.ts";

const MIB = 1 << 20;
const FILE_MIB = Number(Deno.env.get("HYPERDENO_TWO_HOSTS_MIB") ?? 32);
const SIZE = FILE_MIB * MIB;
const R_IP = "10.77.1.1", I_IP = "10.77.1.2", T_IP = "10.77.2.2", R_T_IP = "10.77.2.1";
const CHAIN_PORT = 18545;
const RPC = `http://${R_IP}:${CHAIN_PORT}`;
const FT = "file-transfer:template.os";

async function run(cmd: string, ...args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const d = new TextDecoder();
    return { ok: r.success, out: d.decode(r.stdout) + d.decode(r.stderr) };
  } catch (e) {
    return { ok: false, out: (e as Error).message };
  }
}

async function ip(...args: string[]) {
  const r = await run("ip", ...args);
  if (!r.ok) throw new Error(`ip ${args.join(" ")}: ${r.out.trim()}`);
}

/** Why this machine cannot run the test, or null. */
async function cannotRun(): Promise<string | null> {
  if (Deno.uid() !== 0) return "it must run as root to make network namespaces";
  if (!(await run("ip", "-V")).ok) return "the `ip` command (iproute2) is missing";
  return null;
}

const why = await cannotRun();
if (why) console.warn(`two_hosts_test skipped: ${why}`);

/** The three namespaces and their links; remove() takes them all away (and with them the veths). */
async function makeHosts(tag: string) {
  const ns = { r: `${tag}-r`, i: `${tag}-i`, t: `${tag}-t` };
  const made: string[] = [];
  const remove = async () => {
    for (const n of made) await run("ip", "netns", "del", n);
  };
  try {
    for (const n of Object.values(ns)) {
      await ip("netns", "add", n);
      made.push(n);
      await ip("-n", n, "link", "set", "lo", "up");
    }
    await ip("link", "add", "ri", "netns", ns.r, "type", "veth", "peer", "name", "ir", "netns", ns.i);
    await ip("link", "add", "rt", "netns", ns.r, "type", "veth", "peer", "name", "tr", "netns", ns.t);
    for (
      const [n, dev, addr] of [[ns.r, "ri", `${R_IP}/24`], [ns.i, "ir", `${I_IP}/24`], [ns.r, "rt", `${R_T_IP}/24`], [
        ns.t,
        "tr",
        `${T_IP}/24`,
      ]]
    ) {
      await ip("-n", n, "addr", "add", addr, "dev", dev);
      await ip("-n", n, "link", "set", dev, "up");
    }
    // T reaches R's published address through R; R forwards nothing, so I and T never meet but through r.dev.
    await ip("-n", ns.t, "route", "add", `${R_IP}/32`, "via", R_T_IP);
    const fwd = await run("ip", "netns", "exec", ns.r, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward");
    if (!fwd.ok) throw new Error(`could not turn forwarding off in ${ns.r}: ${fwd.out}`);
    return { ns, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}

const inNs = (ns: string) => ["ip", "netns", "exec", ns];

Deno.test({
  name:
    `two hosts: an indirect node behind a router and a direct node say hi and swap ${FILE_MIB} MiB files with Kino Files`,
  ignore: why !== null,
  async fn() {
    const { ns, remove } = await makeHosts(`hd${Deno.pid}`);
    const homes: string[] = [];
    const nodes: NodeProcess[] = [];
    let anvil: Deno.ChildProcess | null = null;
    const home = async () => {
      const h = await Deno.makeTempDir({ prefix: "hyperdeno-2hosts-" });
      homes.push(h);
      return h;
    };
    const boot = async (name: string, where: string, h: string, extra: string[]) => {
      // Packages run as threads of the node: in its own child process, a package whose host the machine starves of
      // CPU for 3 s is taken for stuck and ended (runtime/host/threads.ts), which a loaded machine does to a download.
      const args = ["-p", "18080", "-o", h, "-f", name, "--rpc", RPC, "--persist", "--tcp-port", "19000"];
      const n = new NodeProcess([...args, "--sandbox", "threads", ...extra], inNs(where));
      nodes.push(n);
      await n.waitFor(/node ready/, 120_000);
      return n;
    };
    const t0 = performance.now();
    const phases: string[] = [];
    const phase = (what: string) => phases.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    try {
      // The isolation is real: I has no route to T.
      const route = await run("ip", "-n", ns.i, "route", "get", T_IP);
      assert(!route.ok && /unreachable/i.test(route.out), `I must not reach T: ${route.out}`);

      anvil = new Deno.Command("ip", {
        args: [...inNs(ns.r).slice(1), await anvilPath(), "--host", R_IP, "--port", String(CHAIN_PORT), "--quiet"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const build = cli("build", FT_PKG);

      const hR = await home(), hI = await home(), hT = await home();
      // The router first: it deploys Hypermap on the fresh chain; then one at a time (one dev account registers all).
      const r = await boot("r.dev", ns.r, hR, ["--ip", R_IP]);
      const t = await boot("t.dev", ns.t, hT, ["--ip", T_IP]);
      const i = await boot("i.dev", ns.i, hI, ["--routers", "r.dev"]);
      phase("three nodes up");
      assertEquals((await build).code, 0);
      const startPackage = ["start-package", FT_PKG, "-p", "18080"];
      const installs = [ns.i, ns.t].map(async (n) => {
        const s = await run("ip", ...inNs(n).slice(1), Deno.execPath(), ...RUN_FLAGS, ...startPackage);
        assert(s.ok, `start-package in ${n}: ${s.out}`);
      });
      const hashes: string[] = [];
      for (const [h, name] of [[hI, "from-i.bin"], [hT, "from-t.bin"]]) {
        const bytes = randomBytes(SIZE);
        hashes.push(await sha256(bytes as Uint8Array<ArrayBuffer>));
        await Deno.mkdir(`${h}/vfs/${FT}/files`, { recursive: true });
        await Deno.writeFile(`${h}/vfs/${FT}/files/${name}`, bytes);
      }
      await Promise.all(installs);
      phase("packages and files ready");
      // T → I: through r.dev, which asks i.dev to connect back.
      await t.type("hi i.dev hello from t.dev");
      await t.waitFor(/hi: i\.dev got it/, 60_000);
      await i.waitFor(/t\.dev.*: hello from t\.dev/);
      // I → T.
      await i.type("hi t.dev hello from i.dev");
      await i.waitFor(/hi: t\.dev got it/, 60_000);
      await t.waitFor(/i\.dev.*: hello from i\.dev/);

      phase("hi both ways");
      const started = performance.now();
      await t.type(`download:${FT} from-i.bin i.dev`);
      await t.waitFor(/from-i\.bin from i\.dev: done, .*SHA-256 verified/, 300_000);
      const tookTI = performance.now() - started;
      const back = performance.now();
      await i.type(`download:${FT} from-t.bin t.dev`);
      await i.waitFor(/from-t\.bin from t\.dev: done, .*SHA-256 verified/, 300_000);
      const tookIT = performance.now() - back;
      assertEquals(await sha256(await Deno.readFile(`${hT}/vfs/${FT}/files/from-i.bin`)), hashes[0]);
      assertEquals(await sha256(await Deno.readFile(`${hI}/vfs/${FT}/files/from-t.bin`)), hashes[1]);
      console.log(
        `${FILE_MIB} MiB i.dev → t.dev through r.dev: ${(tookTI / 1000).toFixed(1)} s; t.dev → i.dev: ${
          (tookIT / 1000).toFixed(1)
        } s`,
      );
      // The router routed them: everything between I and T went through r.dev.
      await r.type("net-diagnostics");
      await r.waitFor(/routed \d+ connections/);

      phase("files swapped");
      // T restarts (same home, same ports): i.dev's next hi must dial t.dev itself, which it can only do through r.dev.
      await t.stop();
      nodes.splice(nodes.indexOf(t), 1);
      const t2 = await boot("t.dev", ns.t, hT, ["--ip", T_IP]);
      const before = i.output.length;
      await i.type("hi t.dev hello again");
      await t2.waitFor(/i\.dev.*: hello again/, 60_000);
      await waitFor("i.dev's second confirmation", () => /hi: t\.dev got it/.test(i.output.slice(before)), 60_000);
      phase("hi after t.dev's restart");
      console.log(phases.join("; "));
      const all = nodes.map((n) => n.output).join("\n");
      assert(!/Uncaught|panicked/.test(all), all);
    } finally {
      for (const n of nodes) n.kill("SIGINT");
      for (const n of nodes) await n.exited();
      try {
        anvil?.kill("SIGKILL");
        await anvil?.status;
      } catch { /* gone */ }
      await remove();
      for (const h of homes) await Deno.remove(h, { recursive: true }).catch(() => {});
    }
  },
});
