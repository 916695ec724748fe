/**
 * The Hypermap-compatible contract: compiled artifacts match the Solidity, its signatures, topics and hashing are
 * the real contract's, and on anvil it enforces who may mint and write (an attacker with another dev account, an
 * EOA writing notes directly, a name minted twice, bad labels).
 */
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { compileContracts, staleArtifacts } from "../chain/compile.ts";
import {
  accountAbi,
  HYPERMAP,
  hypermapAbi,
  labelhash,
  leaf,
  MULTICALL3,
  namehash,
  ZERO_HASH,
} from "../chain/hypermap.ts";
import { MINT_TOPIC, NOTE_TOPIC } from "../chain/indexer.ts";
import { DEV_ACCOUNT, getEntry, writeAbi } from "../chain/deploy.ts";
import { registerTestName, startChain, testOwner } from "../runtime/testing.ts";
import { addressOf, fund } from "../chain/dev_owner.ts";
import {
  type AbiEvent,
  type AbiFunction,
  createWalletClient,
  encodeFunctionData,
  http,
  stringToHex,
  toEventSelector,
  toFunctionSelector,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type Hex, pad } from "viem";

const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
import { foundry } from "viem/chains";

Deno.test("contracts: the committed artifacts are what contracts/*.sol compile to (deno task contracts)", async () => {
  assertEquals(staleArtifacts(await compileContracts()), []);
});

Deno.test("hypermap: selectors, event topics and namehash are the real contract's", () => {
  const fn = (name: string) =>
    toFunctionSelector(hypermapAbi.find((x) => x.type === "function" && x.name === name) as AbiFunction);
  assertEquals(
    ["get", "mint", "note", "fact", "gene", "tbaOf", "leaf", "initialize"].map(fn),
    ["0x8eaa6ac0", "0x094cefed", "0x7788b5a8", "0xe852398b", "0x74e08829", "0x27244d1e", "0x2124b692", "0xc4d66de8"],
  );
  const ev = (name: string) =>
    toEventSelector(hypermapAbi.find((x) => x.type === "event" && x.name === name) as AbiEvent);
  assertEquals(["Mint", "Note", "Fact", "Gene", "Zero"].map(ev), [
    MINT_TOPIC,
    NOTE_TOPIC,
    "0x6df41fff09a97e34e341514998993ce9f4542c3fa8358931a96c9fff178c3adb",
    "0xde0ec2494e561683ac09b109d8c4c4a08b4ddbd4fcd23b609fe107e63176ef5a",
    "0xa7dcba07b3032d87953767c0eed546a5eb7e52648856b776ba4ad8a1ff1bf3c0",
  ]);
  const exec = accountAbi.find((x) => x.type === "function" && x.name === "execute") as AbiFunction;
  assertEquals(toFunctionSelector(exec), "0x51945447");
  assertEquals(namehash("os"), "0xdeeac81ae11b64e7cab86d089c306e5d223552a630f02633ce170d2786ff1bbd");
  assertEquals(namehash("dev"), "0x137d9e4cc0479164d40577620cb3b41b083c6e8dbf58f8523be76d207d6fd8ea");
  assertEquals(namehash("fake.dev"), "0xab5fa7fb3fb1a074e0e4cafe7c9dd070c7ca078fab9ce533828eaa89de850115");
  assertEquals(namehash("~ws-port.fake.os"), "0xc90d5b23f48be017a53f7150cc26b07a334b64035952ebdf00e377414645bbcc");
  assertEquals(labelhash("~net-key"), "0xa5373a61425ed8131f531e016a0201b9a2ede9433815077c8afab1eaa138c07c");
  assertEquals(namehash(""), ZERO_HASH);
});

Deno.test("hypermap on anvil: reads, log order, and who may write", async () => {
  const chain = await startChain();
  try {
    const c = chain.client;
    // leaf() on chain is our namehash; os and dev exist, owned by the dev account, each minted with a Mint.
    assertEquals(
      await c.read(HYPERMAP, hypermapAbi, "leaf", [namehash("dev"), stringToHex("fake")]),
      namehash("fake.dev"),
    );
    for (const p of ["os", "dev"]) {
      const [tba, owner] = await getEntry(c, namehash(p));
      assertEquals(owner, DEV_ACCOUNT);
      assertEquals(await c.read(HYPERMAP, hypermapAbi, "tbaOf", [namehash(p)]), tba);
    }
    const mints = await c.request("eth_getLogs", [{ address: HYPERMAP, fromBlock: "0x0", topics: [MINT_TOPIC] }]);
    assertEquals((mints as { topics: string[] }[]).map((l) => l.topics[2]), [namehash("os"), namehash("dev")]);

    // One transaction: Mint first, the token to Hypermap, the four notes filed under the new name, the token to its
    // owner (the reference's order).
    const key = new Uint8Array(32).fill(3);
    const { block } = await registerTestName(c, {
      name: "fake.dev",
      publicKey: key,
      ips: ["127.0.0.1"],
      ports: { tcp: 9000 },
      routers: [],
    });
    const logs = await c.request("eth_getLogs", [{
      address: HYPERMAP,
      fromBlock: `0x${block.toString(16)}`,
      toBlock: `0x${block.toString(16)}`,
    }]) as { topics: string[] }[];
    assertEquals(logs.map((l) => l.topics[0]), [
      MINT_TOPIC,
      TRANSFER_TOPIC,
      NOTE_TOPIC,
      NOTE_TOPIC,
      NOTE_TOPIC,
      NOTE_TOPIC,
      TRANSFER_TOPIC,
    ]);
    assertEquals(logs.slice(2, 6).map((l) => l.topics[1]), Array(4).fill(namehash("fake.dev")));
    assertEquals(logs[2].topics[3], labelhash("~net-key"));
    // The token goes to the node's own account, not to account #0 that sent the mint.
    assertEquals(logs[6].topics[2], pad(addressOf(testOwner("fake.dev")).toLowerCase() as Hex));
    const [, , data] = await getEntry(c, namehash("~tcp-port.fake.dev"));
    assertEquals(data, "0x2328");
    const [noteTba, noteOwner] = await getEntry(c, namehash("~net-key.fake.dev"));
    assertEquals([noteTba, noteOwner], [
      "0x0000000000000000000000000000000000000000",
      "0x0000000000000000000000000000000000000000",
    ]);

    // Another account (anvil's #1) cannot write fake.dev's notes through its account, nor mint under dev.
    const eve = createWalletClient({
      account: privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
      chain: foundry,
      transport: http(chain.url),
    });
    const [fakeTba] = await getEntry(c, namehash("fake.dev"));
    const note = encodeFunctionData({
      abi: hypermapAbi,
      functionName: "note",
      args: [stringToHex("~net-key"), `0x${"ee".repeat(32)}`],
    });
    await assertRejects(
      () =>
        eve.writeContract({ address: fakeTba, abi: writeAbi, functionName: "execute", args: [HYPERMAP, 0n, note, 0] }),
      Error,
      "NotOwner",
    );
    // Nor can anyone write a note straight to Hypermap: only an entry's account may.
    await assertRejects(
      () =>
        eve.writeContract({
          address: HYPERMAP,
          abi: hypermapAbi,
          functionName: "note",
          args: [stringToHex("~net-key"), "0x01"],
        }),
      Error,
      "NotParent",
    );
    const [, , stillKey] = await getEntry(c, namehash("~net-key.fake.dev"));
    assertEquals(stillKey, `0x${"03".repeat(32)}`);

    // The owner cannot mint a name twice, nor bad labels; facts are write-once and non-empty.
    const [devTba] = await getEntry(c, namehash("dev"));
    const mint = (label: string) =>
      encodeFunctionData({
        abi: hypermapAbi,
        functionName: "mint",
        args: [DEV_ACCOUNT, stringToHex(label), "0x", DEV_ACCOUNT],
      });
    await assertRejects(
      () => c.send(devTba, writeAbi, "execute", [HYPERMAP, 0n, mint("fake"), 0]),
      Error,
      "NameAlreadyExists",
    );
    await assertRejects(
      () => c.send(devTba, writeAbi, "execute", [HYPERMAP, 0n, mint("Fake"), 0]),
      Error,
      "InvalidLabel",
    );
    await assertRejects(
      () => c.send(devTba, writeAbi, "execute", [HYPERMAP, 0n, mint("x".repeat(64)), 0]),
      Error,
      "LabelTooLong",
    );
    const badNote = encodeFunctionData({
      abi: hypermapAbi,
      functionName: "note",
      args: [stringToHex("net-key"), "0x01"],
    });
    // fake.dev's owner is the test's account for it, not the dev account.
    const owner = testOwner("fake.dev");
    await fund(c, addressOf(owner));
    await assertRejects(
      () => c.send(fakeTba, writeAbi, "execute", [HYPERMAP, 0n, badNote, 0]),
      Error,
      "NotOwner",
    );
    const asOwner = (call: `0x${string}`) => c.send(fakeTba, writeAbi, "execute", [HYPERMAP, 0n, call, 0], owner);
    await assertRejects(() => asOwner(badNote), Error, "InvalidLabel");
    const fact = (d: `0x${string}`) =>
      encodeFunctionData({ abi: hypermapAbi, functionName: "fact", args: [stringToHex("!seen"), d] });
    await assertRejects(() => asOwner(fact("0x")), Error, "EmptyFact");
    await asOwner(fact("0x01"));
    await assertRejects(() => asOwner(fact("0x02")), Error, "FactAlreadyExists");

    // A name moves only when its owner sends it (ERC-721's transferFrom, token id = namehash): account #0 cannot.
    const id = BigInt(namehash("fake.dev"));
    const eveAddress = eve.account.address;
    await assertRejects(
      () => c.send(HYPERMAP, hypermapAbi, "transferFrom", [addressOf(owner), eveAddress, id]),
      Error,
      "ERC721InsufficientApproval",
    );
    await assertRejects(
      () => c.send(HYPERMAP, hypermapAbi, "transferFrom", [DEV_ACCOUNT, eveAddress, id]),
      Error,
      "ERC721InsufficientApproval",
    );
    await c.send(HYPERMAP, hypermapAbi, "transferFrom", [addressOf(owner), eveAddress, id], owner);
    assertEquals((await getEntry(c, namehash("fake.dev")))[1], eveAddress);
    await assertRejects(() => asOwner(fact("0x03")), Error, "NotOwner");

    // Multicall3 is at its address and reads several entries in one call.
    const calls = ["fake.dev", "~ip.fake.dev"].map((n) => ({
      target: HYPERMAP,
      callData: encodeFunctionData({ abi: hypermapAbi, functionName: "get", args: [namehash(n)] }),
    }));
    const { multicallAbi } = await import("../chain/hypermap.ts");
    const [, results] = await c.read<[bigint, string[]]>(MULTICALL3, multicallAbi, "aggregate", [calls]);
    assertEquals(results.length, 2);
    assert(results[1].endsWith("7f00000100000000000000000000000000000000000000000000000000000000"), results[1]);
    assertEquals(leaf(namehash("dev"), "fake"), namehash("fake.dev"));
  } finally {
    await chain.stop();
  }
});
