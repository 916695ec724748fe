/**
 * The App Store's chain side as a publisher and a node live it: `hyperdeno publish -p` writes the notes from a fake
 * node on its own dev chain, chain:app-store:sys lists the app with its metadata verified; a hash that does not
 * match, a body too large, one that is no JSON and a note that is no URI are kept unlisted with their reason; a
 * reorganization undoes a publish; unpublish removes the app; a restart keeps the list without fetching again;
 * publish refuses what it must (keystore password, owner, chain, hashes, an unreachable URI) in one line.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { Anvil } from "../chain/anvil.ts";
import { ChainClient } from "../chain/client.ts";
import { deployHypermap } from "../chain/deploy.ts";
import { firstBlock } from "../chain/networks.ts";
import { HYPERMAP, hypermapAbi, namehash } from "../chain/hypermap.ts";
import {
  bootNode,
  injectJson,
  install,
  registerTestName,
  removeHome,
  startChain,
  type TestChain,
  waitFor,
} from "../runtime/testing.ts";
import type { TestNode } from "../runtime/testing.ts";
import { PACKAGES } from "./helpers.ts";
import { cli, freePort, RUN_FLAGS } from "./cli_helpers.ts";
import { run as publishCli } from "../cli/publish.ts";
import { encryptKeystore } from "../cli/keystore.ts";
import { UsageError } from "../cli/flags.ts";
import { makePackage, metadataServer } from "./appstore_chain_helpers.ts";
import { keccak256 } from "viem";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import type { ChainResponse, OnchainApp, UnlistedApp } from "../packages/app-store/api/chain.ts";

const CHAIN = "chain:app-store:sys";

/** app-store with only its chain process in the manifest: main and downloads are another helper's. */
async function chainOnlyAppStore(root: string): Promise<string> {
  const dir = `${root}/app-store`;
  await Deno.mkdir(dir, { recursive: true });
  for (const part of ["api", "chain", "metadata.json"]) {
    await new Deno.Command("cp", { args: ["-r", `${PACKAGES}app-store/${part}`, `${dir}/`] }).output();
  }
  await Deno.mkdir(`${dir}/pkg`);
  const manifest = JSON.parse(await Deno.readTextFile(`${PACKAGES}app-store/pkg/manifest.json`));
  await Deno.writeTextFile(
    `${dir}/pkg/manifest.json`,
    JSON.stringify(manifest.filter((e: { process_name: string }) => e.process_name === "chain")),
  );
  return dir;
}

const ask = <T>(node: TestNode, req: unknown) => injectJson<T>(node, CHAIN, req, 30);
const apps = async (node: TestNode) => (await ask<{ GetApps: OnchainApp[] }>(node, "GetApps")).GetApps;
const unlisted = async (node: TestNode) => (await ask<{ GetUnlisted: UnlistedApp[] }>(node, "GetUnlisted")).GetUnlisted;
const app = async (node: TestNode, name: string) => (await apps(node)).find((a) => a.package_id.package_name === name);
const refusal = async (node: TestNode, name: string) =>
  (await unlisted(node)).find((a) => a.package_id.package_name === name)?.reason;

/** Writes notes as the node, with whatever values (the local endpoint publish -p uses). */
async function writeNotes(node: TestNode, name: string, uri: string, hash: string) {
  const resp = await fetch(`http://127.0.0.1:${node.port}/rpc:distro:sys/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      publisher: node.name,
      package_name: name,
      metadata_uri: uri,
      metadata_hash: hash,
      unpublish: false,
    }),
  });
  const json = await resp.json();
  assertEquals(resp.status, 200, JSON.stringify(json));
}

interface World {
  chain: TestChain;
  node: TestNode;
  home: string;
  root: string;
  files: ReturnType<typeof metadataServer>;
}

async function world(): Promise<World> {
  const chain = await startChain();
  const root = await Deno.makeTempDir({ prefix: "hyperdeno-appstore-chain-" });
  const home = `${root}/home`;
  const node = await bootNode({ home, name: "pub.dev", network: { chainPort: chain.port, pollMs: 100 } });
  await install(node, await chainOnlyAppStore(root));
  return { chain, node, home, root, files: metadataServer() };
}

async function close(w: World) {
  await w.node.shutdown();
  await w.files.close();
  await w.chain.stop();
  await removeHome(w.node);
  await Deno.remove(w.root, { recursive: true }).catch(() => {});
}

Deno.test("app store chain: publish -p lists the app verified; unpublish, a reorganization and a restart", async (t) => {
  const w = await world();
  let node = w.node;
  try {
    const hello = await makePackage(w.root, "hello", "pub.dev");
    w.files.files.set("/hello.json", hello.metadata);

    await t.step("publish -p from the fake node: listed with the metadata verified", async () => {
      assertEquals(await publishCli(["-p", String(node.port), "-u", w.files.url("/hello.json"), hello.dir]), 0);
      await waitFor("hello to be listed", async () => Boolean(await app(node, "hello")), 60_000);
      const listed = (await app(node, "hello"))!;
      assertEquals(listed.package_id, { package_name: "hello", publisher_node: "pub.dev" });
      assertEquals(listed.metadata_uri, w.files.url("/hello.json"));
      assertEquals(listed.metadata_hash, keccak256(hello.metadata));
      assertEquals(listed.metadata?.properties.current_version, "0.1.0");
      assertEquals(listed.metadata?.properties.mirrors, ["pub.dev"]);
      assertEquals(listed.metadata?.properties.code_hashes.length, 1);
      assert(/^0x[0-9a-fA-F]{40}$/.test(listed.tba) && !/^0x0{40}$/.test(listed.tba), listed.tba);
      assertEquals(listed.auto_update, false);
      const one = await ask<ChainResponse>(node, { GetApp: { package_name: "hello", publisher_node: "pub.dev" } });
      assertEquals(one, { GetApp: listed });
      assertEquals(await ask(node, "GetOurApps"), { GetOurApps: [listed] });
      assertEquals(await ask(node, { GetApp: { package_name: "nope", publisher_node: "pub.dev" } }), { GetApp: null });
    });

    await t.step("auto-update is kept per app; an unknown one is NoPackage", async () => {
      const hello = { package_name: "hello", publisher_node: "pub.dev" };
      assertEquals(await ask(node, { StartAutoUpdate: hello }), "AutoUpdateStarted");
      assertEquals((await app(node, "hello"))!.auto_update, true);
      assertEquals(await ask(node, { StopAutoUpdate: hello }), "AutoUpdateStopped");
      assertEquals(await ask(node, { StartAutoUpdate: { ...hello, package_name: "nope" } }), { Err: "NoPackage" });
    });

    await t.step("a ~metadata-hash that does not match the bytes at the URI: not listed, the reason kept", async () => {
      const other = await makePackage(w.root, "mismatch", "pub.dev");
      w.files.files.set("/mismatch.json", other.metadata);
      const wrong = keccak256(new TextEncoder().encode("something else"));
      await writeNotes(node, "mismatch", w.files.url("/mismatch.json"), wrong);
      await waitFor("mismatch to be refused", async () => Boolean(await refusal(node, "mismatch")), 60_000);
      assertEquals(await refusal(node, "mismatch"), {
        HashMismatch: { expected: wrong, actual: keccak256(other.metadata) },
      });
      assertEquals(await app(node, "mismatch"), undefined);
    });

    await t.step("a reorganization undoes a publish", async () => {
      const snapshot = await w.chain.client.request("evm_snapshot");
      const later = await makePackage(w.root, "later", "pub.dev");
      w.files.files.set("/later.json", later.metadata);
      assertEquals(await publishCli(["-p", String(node.port), "-u", w.files.url("/later.json"), later.dir]), 0);
      await waitFor("later to be listed", async () => Boolean(await app(node, "later")), 60_000);
      assertEquals(await w.chain.client.request("evm_revert", [snapshot]), true);
      // The chain goes on past where it was, on another branch.
      for (let i = 0; i < 3; i++) await w.chain.client.request("evm_mine");
      await waitFor("later to be gone", async () => !(await app(node, "later")), 60_000);
      assert(await app(node, "hello"), "hello, published before the fork, stays");
      assert(node.lines.some((l) => l.includes("the chain reorganized")), node.lines.join("\n"));
    });

    await t.step("a restart keeps the list and does not fetch it again", async () => {
      const before = await apps(node);
      const fetched = w.files.hits.get("/hello.json");
      await node.shutdown();
      node = w.node = await bootNode({
        home: w.home,
        name: "pub.dev",
        network: { chainPort: w.chain.port, pollMs: 100 },
      });
      await waitFor("the chain process to answer", () => apps(node).then(() => true, () => false), 30_000);
      assertEquals(await apps(node), before);
      // Once it has read the chain to its head again, it has still fetched nothing: the list was kept, not rebuilt.
      const head = Number(await w.chain.client.request("eth_blockNumber"));
      await waitFor("the chain process to read to the head", async () => {
        const status = await ask<{ GetStatus: { chain_id: number | null; last_block: number } }>(node, "GetStatus");
        return status.GetStatus.chain_id === 31337 && status.GetStatus.last_block >= head;
      }, 60_000);
      assertEquals(w.files.hits.get("/hello.json"), fetched);
    });

    await t.step("Reset drops the index and reads the chain again to the same list", async () => {
      const before = await apps(node);
      const fetched = w.files.hits.get("/hello.json")!;
      assertEquals(await ask(node, "Reset"), "ResetOk");
      await waitFor("the list to be read again", () => (w.files.hits.get("/hello.json") ?? 0) > fetched, 60_000);
      await waitFor("hello to be listed again", async () => Boolean(await app(node, "hello")), 60_000);
      assertEquals(await apps(node), before);
    });

    await t.step("unpublish empties the notes: the app is no longer listed", async () => {
      assertEquals(await publishCli(["-p", String(node.port), "--unpublish", hello.dir]), 0);
      await waitFor("hello to be gone", async () => !(await app(node, "hello")), 60_000);
      assertEquals(await refusal(node, "hello"), undefined);
    });
  } finally {
    await close(w);
  }
});

Deno.test("app store chain: hostile metadata and notes are kept unlisted with typed reasons; the node goes on", async (t) => {
  const w = await world();
  const node = w.node;
  try {
    await t.step(
      "a body over the limit, one that is no JSON, a note that is no URI, metadata of another package",
      async () => {
        const huge = new Uint8Array(1024 * 1024).fill(0x20);
        w.files.files.set("/huge.json", huge);
        await writeNotes(node, "huge", w.files.url("/huge.json"), keccak256(huge));
        const text = new TextEncoder().encode("this is not json");
        w.files.files.set("/text.json", text);
        await writeNotes(node, "text", w.files.url("/text.json"), keccak256(text));
        await writeNotes(node, "nouri", "not a uri at all", keccak256(text));
        const impostor = await makePackage(w.root, "someone-else", "pub.dev");
        w.files.files.set("/impostor.json", impostor.metadata);
        await writeNotes(node, "impostor", w.files.url("/impostor.json"), keccak256(impostor.metadata));
        await waitFor("the four to be refused", async () => (await unlisted(node)).length === 4, 60_000);
        assertEquals(await refusal(node, "huge"), { TooLarge: huge.length });
        assert("NotJson" in (await refusal(node, "text"))!);
        assertEquals(await refusal(node, "nouri"), { BadUri: '"not a uri at all"' });
        assertEquals(await refusal(node, "impostor"), { WrongPackage: "someone-else:pub.dev, not impostor:pub.dev" });
        assertEquals(await apps(node), []);
      },
    );

    await t.step("bodies that are no ChainRequest get MalformedRequest", async () => {
      assertEquals(await ask(node, "Gimme"), { Err: "MalformedRequest" });
      assertEquals(await ask(node, { GetApp: 5 }), { Err: "MalformedRequest" });
      assertEquals(await ask(node, { GetApp: { package_name: "x" }, extra: 1 }), { Err: "MalformedRequest" });
      const r = await fetch(`http://127.0.0.1:${node.port}/rpc:distro:sys/message`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ process: CHAIN, node: null, body: "\u0000{", blob: null, expects_response: 10 }),
      });
      assertEquals(JSON.parse((await r.json()).body), { Err: "MalformedRequest" });
    });

    await t.step("publish refuses in one line: password, owner, chain, code hash, an unreachable URI", async () => {
      const pkg = await makePackage(w.root, "fine", "pub.dev");
      w.files.files.set("/fine.json", pkg.metadata);
      const keystore = `${w.root}/keystore.json`;
      const key = generatePrivateKey();
      await Deno.writeTextFile(keystore, encryptKeystore(key, "right horse", 2 ** 10));
      const url = w.files.url("/fine.json");
      const rpc = w.chain.url;
      await assertRejects(
        () => publishCli(["-k", keystore, "--password", "wrong", "-r", rpc, "-u", url, pkg.dir]),
        UsageError,
        "wrong password",
      );
      // Asked for at the prompt (here a pipe), as kit asks: read, not echoed, and checked the same way.
      const asked = new Deno.Command(Deno.execPath(), {
        args: [...RUN_FLAGS, "publish", "-k", keystore, "-r", rpc, "-u", url, pkg.dir],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stdin = asked.stdin.getWriter();
      await stdin.write(new TextEncoder().encode("not the password\n"));
      await stdin.close();
      const out = await asked.output();
      const err = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 2, err);
      assertMatch(err, /^Enter password: \npublish: .*keystore\.json: wrong password for this keystore/);
      assert(!err.includes("not the password"), "the password is not echoed");
      await assertRejects(
        () => publishCli(["-k", keystore, "--password", "right horse", "-r", rpc, "-u", url, pkg.dir]),
        UsageError,
        "is not the owner of the publisher name pub.dev",
      );
      await assertRejects(
        () => publishCli(["-k", keystore, "--password", "right horse", "-r", rpc, "--real", "-u", url, pkg.dir]),
        UsageError,
        "wrong chain: ",
      );
      const unreachable = `http://127.0.0.1:${freePort()}/fine.json`;
      await assertRejects(
        () => publishCli(["-p", String(node.port), "-u", unreachable, pkg.dir]),
        UsageError,
        "is unreachable",
      );
      const edited = JSON.parse(new TextDecoder().decode(pkg.metadata));
      edited.description = "not what the package says";
      w.files.files.set("/edited.json", new TextEncoder().encode(JSON.stringify(edited)));
      await assertRejects(
        () => publishCli(["-p", String(node.port), "-u", w.files.url("/edited.json"), pkg.dir]),
        UsageError,
        "and the metadata at http://127.0.0.1:",
      );
      const stale = await makePackage(w.root, "stale", "pub.dev");
      await Deno.writeTextFile(`${stale.dir}/pkg/stale.js`, "// changed after the hash was taken\n");
      w.files.files.set("/stale.json", stale.metadata);
      await assertRejects(
        () => publishCli(["-p", String(node.port), "-u", w.files.url("/stale.json"), stale.dir]),
        UsageError,
        "hash mismatch",
      );
      const foreign = await makePackage(w.root, "foreign", "other.dev");
      w.files.files.set("/foreign.json", foreign.metadata);
      await assertRejects(
        () => publishCli(["-p", String(node.port), "-u", w.files.url("/foreign.json"), foreign.dir]),
        UsageError,
        "this node is pub.dev, not the publisher other.dev",
      );
    });

    await t.step("a keystore that owns the publisher's name publishes over --rpc, as kit does", async () => {
      const key = generatePrivateKey();
      await registerTestName(
        w.chain.client,
        { name: "kpub.dev", publicKey: new Uint8Array(32).fill(7), ips: ["127.0.0.1"], ports: { tcp: 9 }, routers: [] },
        key,
      );
      await w.chain.client.request("anvil_setBalance", [privateKeyToAddress(key), "0xde0b6b3a7640000"]);
      const keystore = `${w.root}/owner.json`;
      await Deno.writeTextFile(keystore, encryptKeystore(key, "pw", 2 ** 10));
      const theirs = await makePackage(w.root, "theirs", "kpub.dev");
      w.files.files.set("/theirs.json", theirs.metadata);
      const args = ["-k", keystore, "--password", "pw", "-r", w.chain.url, "-u", w.files.url("/theirs.json")];
      assertEquals(await publishCli([...args, "-g", "900000", "--mock", theirs.dir]), 0);
      assertEquals(await publishCli([...args, "-g", "900000", theirs.dir]), 0);
      await waitFor("theirs to be listed", async () => Boolean(await app(node, "theirs")), 60_000);
      assertEquals((await app(node, "theirs"))!.package_id.publisher_node, "kpub.dev");
      assertEquals((await ask<{ GetOurApps: OnchainApp[] }>(node, "GetOurApps")).GetOurApps, []);
      // An update goes through the app's own account; unpublish empties it.
      assertEquals(await publishCli([...args, theirs.dir]), 0);
      assertEquals(
        await publishCli(["-k", keystore, "--password", "pw", "-r", w.chain.url, "--unpublish", theirs.dir]),
        0,
      );
      await waitFor("theirs to be gone", async () => !(await app(node, "theirs")), 60_000);
    });

    await t.step(
      "a foreign page cannot make the node publish (its Origin is refused before anything is sent)",
      async () => {
        const resp = await fetch(`http://127.0.0.1:${node.port}/rpc:distro:sys/publish`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: "http://evil.example" },
          body: JSON.stringify({
            publisher: "pub.dev",
            package_name: "evil",
            metadata_uri: "http://evil.example/m.json",
            metadata_hash: keccak256(new Uint8Array(1)),
            unpublish: false,
          }),
        });
        assertEquals(resp.status, 403, await resp.text());
        const entry = await w.chain.client.read<[string, string, string]>(HYPERMAP, hypermapAbi, "get", [
          namehash("evil.pub.dev"),
        ]);
        assertMatch(entry[0], /^0x0{40}$/);
      },
    );

    await t.step("the node still lists what is good", async () => {
      const good = await makePackage(w.root, "good", "pub.dev");
      w.files.files.set("/good.json", good.metadata);
      // As a user types it: the CLI in a process of its own.
      const r = await cli("publish", "-p", String(node.port), "-u", w.files.url("/good.json"), good.dir);
      assertEquals(r.code, 0, r.err);
      assertMatch(r.out, /^published good\.pub\.dev in block \d+ \(0x[0-9a-f]{64}\)\n$/);
      const refused = await cli("publish", "-p", String(node.port), "-u", w.files.url("/nothing-here.json"), good.dir);
      assertEquals(refused.code, 2);
      assertMatch(refused.err, /^publish: the metadata URI .* answered HTTP 404: put metadata\.json there first/);
      assertEquals(refused.err.trim().split("\n").length, 1, refused.err);
      await waitFor("good to be listed", async () => Boolean(await app(node, "good")), 60_000);
      assertEquals((await unlisted(node)).length, 4);
    });
  } finally {
    await close(w);
  }
});

Deno.test("app store chain: on a public chain (Base's id) a metadata URI on this machine is not fetched", async () => {
  const anvil = await Anvil.start(freePort(), ["--chain-id", "8453", "--number", String(firstBlock(8453))]);
  const client = new ChainClient(anvil.url);
  const root = await Deno.makeTempDir({ prefix: "hyperdeno-appstore-base-" });
  const files = metadataServer();
  let node: TestNode | null = null;
  try {
    await deployHypermap(client, ["dev"]);
    node = await bootNode({ name: "base-node.dev", network: { rpc: anvil.url, pollMs: 100 } });
    await install(node, await chainOnlyAppStore(root));
    // A publisher on this chain: its name and its key, in a keystore, as kit publish --real takes them.
    const key = generatePrivateKey();
    await registerTestName(
      client,
      { name: "pubb.dev", publicKey: new Uint8Array(32).fill(3), ips: ["127.0.0.1"], ports: { tcp: 9 }, routers: [] },
      key,
    );
    await client.request("anvil_setBalance", [privateKeyToAddress(key), "0xde0b6b3a7640000"]);
    const keystore = `${root}/key.json`;
    await Deno.writeTextFile(keystore, encryptKeystore(key, "pw", 2 ** 10));
    const local = await makePackage(root, "local", "pubb.dev");
    files.files.set("/local.json", local.metadata);
    const args = ["-k", keystore, "--password", "pw", "-r", anvil.url, "--real", "-u", files.url("/local.json")];
    assertEquals(await publishCli([...args, local.dir]), 0);
    const cliFetches = files.hits.get("/local.json");
    await waitFor("local to be refused", async () => Boolean(await refusal(node!, "local")), 60_000);
    const reason = (await refusal(node, "local")) as { FetchFailed: string };
    assertMatch(reason.FetchFailed, /AddressRefused/);
    assertEquals(files.hits.get("/local.json"), cliFetches, "the node sent nothing to this machine");
    assertEquals(await apps(node), []);
  } finally {
    await node?.shutdown();
    if (node) await removeHome(node);
    await files.close();
    await client.close();
    await anvil.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
