/**
 * The dev chain as the reference's deployment: the ERC-6551 derivation puts `.os`'s account at the address
 * Hyperdrive hard-codes (0x9b38…A9C9 on chain 31337), Hyperdrive's own mint_local (its exact calldata and
 * transaction) registers a name on our chain, our node's registration makes the reference's calls, the commit
 * minter's flow, ERC-721 ownership moving control of an account, genes, and setup that never damages a chain.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { erc6551Account, referenceAccountProxy, referenceTba } from "../chain/accounts.ts";
import {
  DEV_CHAIN_ID,
  DOT_OS_TBA,
  encodePort,
  ERC6551_REGISTRY,
  HYPER_ACCOUNT,
  HYPER_ACCOUNT_COMMIT_MINTER,
  HYPER_ACCOUNT_MINTER,
  HYPERMAP,
  HYPERMAP_IMPLEMENTATION,
  hypermapAbi,
  labelhash,
  minterAbi,
  MULTICALL3,
  multicallAbi,
  namehash,
  ZERO_HASH,
  ZEROTH_TBA,
} from "../chain/hypermap.ts";
import {
  deployHypermap,
  DEV_ACCOUNT,
  DEV_CHAIN_CODE,
  getEntry,
  HYPERMAP_PROXY_CODE,
  IMPLEMENTATION_SLOT,
  writeAbi,
} from "../chain/deploy.ts";
import { MINT_TOPIC, NOTE_TOPIC } from "../chain/indexer.ts";
import { HnsIndexer } from "../chain/indexer.ts";
import { ChainClient } from "../chain/client.ts";
import { mintCall } from "../chain/mint.ts";
import { addressOf } from "../chain/dev_owner.ts";
import { Refusal, RegistrationError } from "../runtime/errors.ts";
import type { HnsUpdate } from "../runtime/api/net.ts";
import { bootNode, registerTestName, startChain, testOwner, waitFor } from "../runtime/testing.ts";
import registryArtifact from "../contracts/out/ERC6551Registry.json" with { type: "json" };
import rawLogger from "../contracts/out/RawLogger.json" with { type: "json" };
import {
  type Abi,
  createWalletClient,
  decodeFunctionData,
  encodeFunctionData,
  getAddress,
  type Hex,
  http,
  pad,
  parseGwei,
  stringToHex,
  toHex as hexOf,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";

const ACCOUNT_0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ACCOUNT_1_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const ACCOUNT_1 = privateKeyToAccount(ACCOUNT_1_KEY).address;
const registryAbi = registryArtifact.abi as Abi;

type Log = { address: string; topics: Hex[]; data: Hex };
type Receipt = { status: string; gasUsed: string; logs: Log[]; blockNumber: string };

Deno.test("accounts: the ERC-6551 derivation gives the reference's `.os` and root accounts", () => {
  const os = namehash("os");
  // The implementation in the derivation is the name's account proxy, which the reference keeps at
  // CREATE2(Hypermap, namehash, its proxy's init-code hash); HyperAccount is what that proxy delegates to.
  assertEquals(referenceAccountProxy(os), "0x0df6BDeE3e7107421d56BEF382546f581e55b3DE");
  assertEquals(erc6551Account(referenceAccountProxy(os), os, DEV_CHAIN_ID, HYPERMAP, BigInt(os)), DOT_OS_TBA);
  assertEquals(DOT_OS_TBA, "0x9b3853358ede717fc7D4806cF75d7A4d4517A9C9");
  assertEquals(referenceTba(ZERO_HASH), ZEROTH_TBA);
  // The same formula gives Base's `.os` (the register UI's DOTOS) and the TBAs kit's chain gave fake.os and fake2.os.
  assertEquals(referenceTba(os, 8453), "0x763Ae1AB24c4322b8933E58d76d8D9286f6C0162");
  assertEquals(referenceTba(namehash("fake.os")), "0x35F71368DA05baf90a1F5176d0F33E0699060b58");
  assertEquals(referenceTba(namehash("fake2.os")), "0x3e92fC5D7E8A25435630342EF2C585246a21CF74");
  // HyperAccount itself as the implementation would not give it.
  assert(erc6551Account(HYPER_ACCOUNT, os, DEV_CHAIN_ID, HYPERMAP, BigInt(os)) !== DOT_OS_TBA);
});

Deno.test("dev chain: the reference's addresses hold the deployment; `.os`'s account is an ERC-6551 account", async () => {
  const chain = await startChain();
  try {
    const c = chain.client;
    for (const [address, code] of [...DEV_CHAIN_CODE, [HYPERMAP, HYPERMAP_PROXY_CODE] as const]) {
      assertEquals(await c.request("eth_getCode", [address, "latest"]), code, address);
    }
    assertEquals(
      await c.request("eth_getStorageAt", [HYPERMAP, IMPLEMENTATION_SLOT, "latest"]),
      pad(HYPERMAP_IMPLEMENTATION.toLowerCase() as Hex),
    );
    const os = namehash("os");
    assertEquals(await getEntry(c, os), [DOT_OS_TBA, DEV_ACCOUNT, "0x"]);
    assertEquals((await getEntry(c, ZERO_HASH))[0], ZEROTH_TBA);
    assertEquals(await c.read(HYPERMAP, hypermapAbi, "tbaOf", [os]), DOT_OS_TBA);
    assertEquals(await c.read(HYPERMAP, hypermapAbi, "ownerOf", [BigInt(os)]), DEV_ACCOUNT);
    assertEquals(
      await c.read(ERC6551_REGISTRY, registryAbi, "account", [
        referenceAccountProxy(os),
        os,
        BigInt(DEV_CHAIN_ID),
        HYPERMAP,
        BigInt(os),
      ]),
      DOT_OS_TBA,
    );
    assertEquals(await c.read(DOT_OS_TBA, writeAbi, "token", []), [BigInt(DEV_CHAIN_ID), HYPERMAP, BigInt(os)]);
    assertEquals(await c.read(DOT_OS_TBA, writeAbi, "owner", []), DEV_ACCOUNT);
    assertEquals(await c.read(DOT_OS_TBA, writeAbi, "isValidSigner", [DEV_ACCOUNT, "0x"]), "0x523e3260");
    assertEquals(await c.read(DOT_OS_TBA, writeAbi, "isValidSigner", [ACCOUNT_1, "0x"]), "0x00000000");
    assertEquals(await implementationOf(c, DOT_OS_TBA), HYPER_ACCOUNT_MINTER);
    assertEquals(await implementationOf(c, ZEROTH_TBA), HYPER_ACCOUNT);
    // os and dev each arrived as a Mint under the root, as kit's os does; the root announced its account in Zero.
    const mints = await c.request("eth_getLogs", [{ address: HYPERMAP, fromBlock: "0x0", topics: [MINT_TOPIC] }]);
    assertEquals((mints as Log[]).map((l) => [l.topics[1], l.topics[2]]), [
      [ZERO_HASH, os],
      [ZERO_HASH, namehash("dev")],
    ]);
    const zero = await c.request("eth_getLogs", [{
      address: HYPERMAP,
      fromBlock: "0x0",
      topics: ["0xa7dcba07b3032d87953767c0eed546a5eb7e52648856b776ba4ad8a1ff1bf3c0"],
    }]);
    assertEquals((zero as Log[])[0].topics[1], pad(ZEROTH_TBA.toLowerCase() as Hex));
    assertEquals(await c.read(HYPERMAP, hypermapAbi, "ERC6551_REGISTRY", []), ERC6551_REGISTRY);
  } finally {
    await chain.stop();
  }
});

/** The ERC-1967 implementation an account delegates to. */
async function implementationOf(c: ChainClient, account: Hex): Promise<Hex> {
  const word = await c.request("eth_getStorageAt", [account, IMPLEMENTATION_SLOT, "latest"]) as Hex;
  return getAddress(`0x${word.slice(-40)}`);
}

/**
 * Hyperdrive's fakenet.rs mint_local, call for call: get(namehash(name)) on Hypermap; a Multicall3 aggregate of
 * note(~ip, 127.0.0.1), note(~ws-port, port), note(~net-key, key) wrapped in execute(Multicall3, 0, …, 1); a new
 * name is mint(wallet, label, that, HyperAccount) sent to the `.os` account, an existing one gets the execute call
 * at its own account; gas 1,200,000, 200/300 gwei; then 10 wei to address 0 for one more block.
 */
async function mintLocal(url: string, key: Hex, name: string, wsPort: number, pubkey: Uint8Array) {
  const wallet = createWalletClient({ account: privateKeyToAccount(key), chain: foundry, transport: http(url) });
  const c = new ChainClient(url);
  const [tba] = await getEntry(c, namehash(name));
  const note = (label: string, data: Uint8Array) =>
    encodeFunctionData({ abi: hypermapAbi, functionName: "note", args: [stringToHex(label), hexOf(data)] });
  const multicall = encodeFunctionData({
    abi: multicallAbi,
    functionName: "aggregate",
    args: [[
      { target: HYPERMAP, callData: note("~ip", new Uint8Array([127, 0, 0, 1])) },
      { target: HYPERMAP, callData: note("~ws-port", encodePort(wsPort)) },
      { target: HYPERMAP, callData: note("~net-key", pubkey) },
    ]],
  });
  const execute = encodeFunctionData({ abi: writeAbi, functionName: "execute", args: [MULTICALL3, 0n, multicall, 1] });
  const reset = !/^0x0{40}$/.test(tba);
  const [to, data] = reset
    ? [tba, execute]
    : [DOT_OS_TBA, mintCall(wallet.account.address, name.split(".")[0], execute, HYPER_ACCOUNT)];
  const fees = { maxPriorityFeePerGas: parseGwei("200"), maxFeePerGas: parseGwei("300") };
  const hash = await wallet.sendTransaction({ to, data, gas: 1_200_000n, ...fees });
  const receipt = await waitReceipt(c, hash);
  await waitReceipt(c, await wallet.sendTransaction({ to: `0x${"00".repeat(20)}`, value: 10n, gas: 21_000n, ...fees }));
  await c.close();
  return receipt;
}

async function waitReceipt(c: ChainClient, hash: Hex): Promise<Receipt> {
  let r: Receipt | null = null;
  await waitFor(
    "a receipt",
    async () => (r = await c.request("eth_getTransactionReceipt", [hash]) as Receipt) !== null,
  );
  return r!;
}

function indexer(c: ChainClient) {
  const known = new Map<string, HnsUpdate>();
  const idx = new HnsIndexer({
    chain: c,
    stateFile: null,
    onUpdate: (u) => known.set(u.name, u),
    onForget: (n) => known.delete(n),
    log: () => {},
    pollMs: 50,
  });
  return { idx, known };
}

Deno.test("dev chain: Hyperdrive's mint_local registers a name on our chain, and resets it", async () => {
  const chain = await startChain();
  const { idx, known } = indexer(new ChainClient(chain.url));
  try {
    const key = new Uint8Array(32).fill(7);
    const minted = await mintLocal(chain.url, ACCOUNT_0_KEY, "fake.os", 9100, key);
    assertEquals(minted.status, "0x1");
    const fake = namehash("fake.os");
    const ours = minted.logs.filter((l) => l.address.toLowerCase() === HYPERMAP.toLowerCase());
    const mintAndNotes = ours.filter((l) => l.topics[0] === MINT_TOPIC || l.topics[0] === NOTE_TOPIC);
    assertEquals(mintAndNotes.map((l) => [l.topics[0], l.topics[1], l.topics[3]]), [
      [MINT_TOPIC, namehash("os"), labelhash("fake")],
      [NOTE_TOPIC, fake, labelhash("~ip")],
      [NOTE_TOPIC, fake, labelhash("~ws-port")],
      [NOTE_TOPIC, fake, labelhash("~net-key")],
    ]);
    assertEquals(mintAndNotes[0].topics[2], fake);
    const [tba, owner] = await getEntry(chain.client, fake);
    assert(!/^0x0{40}$/.test(tba));
    assertEquals(owner, DEV_ACCOUNT);
    assertEquals((await getEntry(chain.client, namehash("~ws-port.fake.os")))[2], "0x238c");
    assertEquals(await implementationOf(chain.client, tba), HYPER_ACCOUNT);
    console.log(`mint_local's mint on our chain used ${Number(minted.gasUsed)} gas of its 1,200,000`);

    // Our indexer reads the identity from those events.
    await idx.start();
    assertEquals(known.get("fake.os"), {
      name: "fake.os",
      public_key: "07".repeat(32),
      ips: ["127.0.0.1"],
      ports: { ws: 9100 },
      routers: [],
    });

    // Booted again (a new key, a new port): the reset path, three notes through the name's own account.
    const again = await mintLocal(chain.url, ACCOUNT_0_KEY, "fake.os", 9200, new Uint8Array(32).fill(8));
    assertEquals(again.status, "0x1");
    const notes = again.logs.filter((l) => l.topics[0] === NOTE_TOPIC || l.topics[0] === MINT_TOPIC);
    assertEquals(notes.map((l) => l.topics[0]), [NOTE_TOPIC, NOTE_TOPIC, NOTE_TOPIC]);
    await waitFor("the indexer to read the new port", () => known.get("fake.os")?.ports.ws === 9200);
    assertEquals(known.get("fake.os")?.public_key, "08".repeat(32));

    // The `.os` minter is open: another account mints its own name, which it owns.
    const other = await mintLocal(chain.url, ACCOUNT_1_KEY, "other.os", 9300, new Uint8Array(32).fill(9));
    assertEquals(other.status, "0x1");
    assertEquals((await getEntry(chain.client, namehash("other.os")))[1], ACCOUNT_1);
  } finally {
    await idx.stop();
    await chain.stop();
  }
});

Deno.test("dev chain: our node registers with the reference's calls (mint at the `.os` account, HyperAccount, to its own account)", async () => {
  const chain = await startChain();
  try {
    const c = chain.client;
    const publish = { name: "n.os", publicKey: new Uint8Array(32).fill(5), ips: ["127.0.0.1"], ports: { ws: 9400 } };
    const { block } = await registerTestName(c, { ...publish, routers: [] });
    const tx = await onlyTransaction(c, block);
    assertEquals(getAddress(tx.to), DOT_OS_TBA);
    const call = decodeFunctionData({ abi: minterAbi, data: tx.input });
    assertEquals(call.functionName, "mint");
    const [to, label, init, implementation] = call.args as [Hex, Hex, Hex, Hex];
    // Sent by account #0, minted to the node's own account.
    assertEquals(getAddress(tx.from), DEV_ACCOUNT);
    assertEquals([to, label, implementation], [addressOf(testOwner("n.os")), stringToHex("n"), HYPER_ACCOUNT]);
    const initCall = decodeFunctionData({ abi: writeAbi, data: init });
    assertEquals(initCall.functionName, "execute");
    assertEquals((initCall.args as unknown[])[0], MULTICALL3);
    assertEquals((initCall.args as unknown[])[3], 1);
    // An update goes through the name's own account, sent by its owner: execute(Multicall3, 0, aggregate, 1).
    const [tba] = await getEntry(c, namehash("n.os"));
    const { block: again } = await registerTestName(c, { ...publish, ports: { ws: 9401 }, routers: [] });
    const update = await onlyTransaction(c, again);
    assertEquals(getAddress(update.to), tba);
    assertEquals(getAddress(update.from), addressOf(testOwner("n.os")));
    assertEquals(decodeFunctionData({ abi: writeAbi, data: update.input }).functionName, "execute");
    assertEquals((await getEntry(c, namehash("~ws-port.n.os")))[2], "0x24b9");
    // `dev` names too: dev's account is an open minter like `.os`'s.
    await registerTestName(c, { ...publish, name: "n.dev", routers: [] });
    assertEquals((await getEntry(c, namehash("n.dev")))[1], addressOf(testOwner("n.dev")));
  } finally {
    await chain.stop();
  }
});

async function onlyTransaction(c: ChainClient, block: bigint): Promise<{ from: Hex; to: Hex; input: Hex }> {
  const b = await c.request("eth_getBlockByNumber", [`0x${block.toString(16)}`, true]) as {
    transactions: { from: Hex; to: Hex; input: Hex }[];
  };
  assertEquals(b.transactions.length, 1);
  return b.transactions[0];
}

/** Mints top-level `label` through the root's account (account #0 owns the root) with `implementation`. */
async function mintTop(c: ChainClient, label: string, implementation: Hex, owner: Hex = DEV_ACCOUNT) {
  const [root] = await getEntry(c, ZERO_HASH);
  const init = implementation === HYPER_ACCOUNT
    ? "0x"
    : encodeFunctionData({ abi: minterAbi, functionName: "initialize" });
  await c.send(root, writeAbi, "execute", [HYPERMAP, 0n, mintCall(owner, label, init, implementation), 0]);
  return (await getEntry(c, namehash(label)))[0];
}

Deno.test("dev chain: the 9-character commit minter (commit, wait, mint) and its refusals", async () => {
  const chain = await startChain();
  try {
    const c = chain.client;
    // A top-level name with the commit minter, owned by account #1, so account #0 has no owner's way around it.
    const tba = await mintTop(c, "commit", HYPER_ACCOUNT_COMMIT_MINTER, ACCOUNT_1);
    const name = stringToHex("ninechars");
    const hash = await c.read<Hex>(tba, minterAbi, "getCommitHash", [name, DEV_ACCOUNT]);
    const mintArgs = (label: Hex) => [DEV_ACCOUNT, label, "0x", HYPER_ACCOUNT];
    await assertRejects(() => c.send(tba, writeAbi, "mint", mintArgs(stringToHex("short"))), Error, "NameTooShort");
    await assertRejects(() => c.send(tba, writeAbi, "mint", mintArgs(name)), Error, "CommitNotFound");
    await c.send(tba, minterAbi, "commit", [hash]);
    await assertRejects(() => c.send(tba, writeAbi, "mint", mintArgs(name)), Error, "CommitTooNew");
    await c.request("evm_increaseTime", [11]);
    await c.request("evm_mine", []);
    await c.send(tba, writeAbi, "mint", mintArgs(name));
    assertEquals((await getEntry(c, namehash("ninechars.commit")))[1], DEV_ACCOUNT);
    // A commit is spent by its mint.
    await assertRejects(
      () => c.send(tba, writeAbi, "mint", mintArgs(stringToHex("ninechar2"))),
      Error,
      "CommitNotFound",
    );
    // Our registration reports the minter's refusal in one line.
    const err = await assertRejects(
      () =>
        registerTestName(c, {
          name: "ab.commit",
          publicKey: new Uint8Array(32),
          ips: ["127.0.0.1"],
          ports: {},
          routers: [],
        }),
      RegistrationError,
    );
    assertMatch(
      err.message,
      /^ab\.commit: the mint through commit's account 0x[0-9a-fA-F]{40} failed \(reverted with NameTooShort\)/,
    );
    assert(!err.message.includes("\n"), err.message);
  } finally {
    await chain.stop();
  }
});

Deno.test("dev chain: an account follows its token; genes choose descendants' implementation", async () => {
  const chain = await startChain();
  try {
    const c = chain.client;
    // Registered with account #0 as its node's key, so account #0 is the name's owner.
    await registerTestName(c, {
      name: "t.os",
      publicKey: new Uint8Array(32).fill(1),
      ips: ["127.0.0.1"],
      ports: {},
      routers: [],
    }, ACCOUNT_0_KEY);
    const [tba] = await getEntry(c, namehash("t.os"));
    const id = BigInt(namehash("t.os"));
    await c.send(HYPERMAP, hypermapAbi, "transferFrom", [DEV_ACCOUNT, ACCOUNT_1, id]);
    assertEquals((await getEntry(c, namehash("t.os")))[1], ACCOUNT_1);
    assertEquals(await c.read(tba, writeAbi, "owner", []), ACCOUNT_1);
    const note = encodeFunctionData({
      abi: hypermapAbi,
      functionName: "note",
      args: [stringToHex("~ip"), "0x0a000001"],
    });
    await assertRejects(() => c.send(tba, writeAbi, "execute", [HYPERMAP, 0n, note, 0]), Error, "NotOwner");
    const eve = createWalletClient({
      account: privateKeyToAccount(ACCOUNT_1_KEY),
      chain: foundry,
      transport: http(chain.url),
    });
    await waitReceipt(
      c,
      await eve.writeContract({ address: tba, abi: writeAbi, functionName: "execute", args: [HYPERMAP, 0n, note, 0] }),
    );
    assertEquals((await getEntry(c, namehash("~ip.t.os")))[2], "0x0a000001");

    // A gene on `g` (set through g's account by its owner): children get it whatever the mint asks for.
    const g = await mintTop(c, "g", HYPER_ACCOUNT);
    const gene = encodeFunctionData({ abi: hypermapAbi, functionName: "gene", args: [HYPER_ACCOUNT_MINTER] });
    await c.send(g, writeAbi, "execute", [HYPERMAP, 0n, gene, 0]);
    await assertRejects(() => c.send(g, writeAbi, "execute", [HYPERMAP, 0n, gene, 0]), Error, "GeneAlreadySet");
    await c.send(g, writeAbi, "execute", [HYPERMAP, 0n, mintCall(DEV_ACCOUNT, "kid", "0x", HYPER_ACCOUNT), 0]);
    const [kid] = await getEntry(c, namehash("kid.g"));
    assertEquals(await implementationOf(c, kid), HYPER_ACCOUNT_MINTER);
    // Minting with an implementation that is not a contract reverts (the reference's does too): no gene on `.os`.
    const none = `0x${"00".repeat(20)}` as const;
    await assertRejects(
      () => c.send(DOT_OS_TBA, writeAbi, "mint", [DEV_ACCOUNT, stringToHex("nil"), "0x", none]),
      Error,
      "ERC1967InvalidImplementation",
    );
    assertEquals((await getEntry(c, namehash("nil.os")))[0], none);
  } finally {
    await chain.stop();
  }
});

/** anvil on a free port with nothing deployed. */
const bareChain = () => startChain(false);

async function codes(c: ChainClient): Promise<string[]> {
  const addresses = [...DEV_CHAIN_CODE.map(([a]) => a), HYPERMAP];
  return await Promise.all(addresses.map((a) => c.request("eth_getCode", [a, "latest"]) as Promise<string>));
}

Deno.test("setup never damages a chain: a Hypermap is used as it is, a missing parent minted or reported", async () => {
  const chain = await bareChain();
  try {
    const c = chain.client;
    // Kit's shape: the root and os, no dev.
    await deployHypermap(c, ["os"]);
    assertEquals((await getEntry(c, namehash("dev")))[0], `0x${"00".repeat(20)}`);
    const before = await codes(c);
    await deployHypermap(c);
    assertEquals(await codes(c), before);
    const [devTba, devOwner] = await getEntry(c, namehash("dev"));
    assertEquals(devOwner, DEV_ACCOUNT);
    assertEquals(await implementationOf(c, devTba), HYPER_ACCOUNT_MINTER);
    const head = await c.request("eth_blockNumber");
    await deployHypermap(c);
    assertEquals(await c.request("eth_blockNumber"), head, "a set-up chain is left alone");
  } finally {
    await chain.stop();
  }

  const other = await bareChain();
  try {
    const c = other.client;
    await deployHypermap(c, ["os"]);
    // The root belongs to someone else now: dev cannot be minted the real way, and setup says so in one line.
    await c.send(HYPERMAP, hypermapAbi, "transferFrom", [DEV_ACCOUNT, ACCOUNT_1, 0n]);
    const head = await c.request("eth_blockNumber");
    const err = await assertRejects(() => deployHypermap(c), RegistrationError);
    assertMatch(
      err.message,
      /^dev is not on this chain and its root is owned by 0x70997970C51812dc3A010C7d01b50e0d17dc79C8/,
    );
    assertEquals(await c.request("eth_blockNumber"), head);
  } finally {
    await other.stop();
  }

  const foreign = await bareChain();
  try {
    const c = foreign.client;
    // Some other contract at Hypermap's address: nothing is installed over it or anywhere else.
    await c.request("anvil_setCode", [HYPERMAP, rawLogger.deployedBytecode]);
    const err = await assertRejects(() => deployHypermap(c), RegistrationError);
    assertMatch(
      err.message,
      /^the code at Hypermap's address 0x000000000044C6B8Cb4d8f0F889a3E47664EAeda does not answer get\(\)/,
    );
    assert(!err.message.includes("\n"), err.message);
    assertEquals(await c.request("eth_getCode", [HYPERMAP, "latest"]), rawLogger.deployedBytecode);
    for (const [address] of DEV_CHAIN_CODE) assertEquals(await c.request("eth_getCode", [address, "latest"]), "0x");
  } finally {
    await foreign.stop();
  }
});

Deno.test("boot: a registration the chain refuses, or a Hypermap that is not one, is a one-line error", async () => {
  const chain = await startChain();
  try {
    // A parent whose commit minter refuses short names, owned by another account.
    await mintTop(chain.client, "commit", HYPER_ACCOUNT_COMMIT_MINTER, ACCOUNT_1);
    const err = await assertRejects(
      () => bootNode({ name: "ab.commit", network: { chainPort: chain.port } }),
      RegistrationError,
    );
    assertMatch(err.message, /^ab\.commit: the mint through commit's account .* \(reverted with NameTooShort\)/);
    assert(!err.message.includes("\n"), err.message);
  } finally {
    await chain.stop();
  }
  const foreign = await bareChain();
  try {
    await foreign.client.request("anvil_setCode", [HYPERMAP, rawLogger.deployedBytecode]);
    const err = await assertRejects(
      () => bootNode({ name: "ab.os", network: { chainPort: foreign.port } }),
      Refusal,
    );
    assertMatch(err.message, /does not answer get\(\)/);
    assert(!err.message.includes("\n"), err.message);
    assertEquals(await foreign.client.request("eth_getCode", [HYPERMAP, "latest"]), rawLogger.deployedBytecode);
  } finally {
    await foreign.stop();
  }
});
