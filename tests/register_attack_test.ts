/**
 * Before its owner registers it, nobody else can claim a node through its registration pages: a foreign page, a
 * rebound DNS name, a script posting text, another wallet's signature, a stale signature or a name whose notes name
 * another key are refused; only the name's owner, signing now for the key this node generated, boots it.
 */
import { createWalletClient, defineChain, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { startChain } from "../runtime/testing.ts";
import { raw } from "./http_helpers.ts";
import { realNode, WALLET_KEYS } from "./register_helpers.ts";
import { bootTypedData } from "../register/boot_message.ts";
import { passwordHash } from "../register/keyfile.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { toHex } from "../runtime/bytes.ts";

const owner = privateKeyToAccount(WALLET_KEYS[0]);
const intruder = privateKeyToAccount(WALLET_KEYS[1]);

Deno.test("registration pages: foreign pages, rebinding, other wallets and stale signatures cannot claim the node", async () => {
  const chain = await startChain();
  const b = await realNode(chain.url);
  const port = b.setup.port;
  const base = `http://127.0.0.1:${port}`;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const wallet = createWalletClient({
    account: owner,
    chain: defineChain({
      id: 31337,
      name: "dev",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [chain.url] } },
    }),
    transport: http(chain.url),
  });
  /** Mints `name` for `who` through the pages' own transaction, with `key` as its ~net-key. */
  const mint = async (name: string, who: typeof owner) => {
    const tx = await (await post("/api/tx", { kind: "mint", name, owner: who.address, direct: true, ip: "127.0.0.1" }))
      .json();
    const hash = await wallet.sendTransaction({ account: who, to: tx.to, data: tx.data, chain: wallet.chain });
    assertEquals((await (await post("/api/receipt", { hash })).json()).ok, true);
  };
  const boot = async (name: string, signer: typeof owner, at = Date.now(), chainId = 31337) => {
    const message = {
      username: name,
      password_hash: passwordHash(name, "a password"),
      timestamp: at,
      direct: true,
      reset: false,
      chain_id: chainId,
    };
    const t = bootTypedData(message);
    const { EIP712Domain: _, ...types } = t.types;
    const signature = await signer.signTypedData({
      domain: t.domain,
      types,
      primaryType: "Boot",
      message: { ...message, timestamp: BigInt(at), chain_id: BigInt(chainId) },
    });
    return await post("/api/boot", {
      name,
      password: "a password",
      timestamp: at,
      direct: true,
      ip: "127.0.0.1",
      signature,
    });
  };
  try {
    // A page elsewhere, a rebound DNS name, a text/plain form post: refused before anything runs.
    const foreign = await post("/api/boot", {}, { origin: "http://evil.example" });
    assertEquals(foreign.status, 403, await foreign.text());
    const crossSite = await post("/api/login", { password: "x" }, { "sec-fetch-site": "cross-site" });
    assertEquals(crossSite.status, 403, await crossSite.text());
    const sameSite = await post("/api/login", { password: "x" }, {
      origin: "http://localhost:1",
      "sec-fetch-site": "same-site",
    });
    assertEquals(sameSite.status, 403, await sameSite.text());
    const rebound = await raw(
      port,
      `GET /api/info HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`,
    );
    assertEquals(rebound.status, 403, rebound.text);
    const reboundPost = await raw(
      port,
      `POST /api/boot HTTP/1.1\r\nHost: evil.example:${port}\r\nContent-Type: application/json\r\n` +
        `Content-Length: 2\r\nConnection: close\r\n\r\n{}`,
    );
    assertEquals(reboundPost.status, 403, reboundPost.text);
    const text = await fetch(`${base}/api/boot`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    assertEquals(text.status, 415, await text.text());
    const page = await fetch(`${base}/`);
    assertMatch(page.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);

    // victim.os is the owner's, its notes naming this node's fresh key.
    await mint("victim.os", owner);
    // Another wallet signs the boot message for it: refused, whatever it claims.
    const stolen = await boot("victim.os", intruder);
    assertEquals(stolen.status, 401, await stolen.text());
    // The owner's signature from 11 minutes ago, or made for another chain: refused.
    const stale = await boot("victim.os", owner, Date.now() - 11 * 60_000);
    assertEquals(stale.status, 401);
    assertMatch((await stale.json()).error, /more than 10 minutes ago/);
    const otherChain = await boot("victim.os", owner, Date.now(), 8453);
    assertEquals(otherChain.status, 401, await otherChain.text());
    // A name of the intruder's own whose ~net-key is not this node's: refused (the node would be unreachable).
    const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const tx = await (await post("/api/tx", {
      kind: "mint",
      name: "mallory.os",
      owner: intruder.address,
      direct: true,
      ip: "127.0.0.1",
    })).json();
    // Its notes name another key: the intruder rewrites the key bytes in the calldata it sends.
    const fresh = (await (await fetch(`${base}/api/info`)).json()).networking_key.slice(2);
    assert(tx.data.includes(fresh));
    const hash = await wallet.sendTransaction({
      account: intruder,
      to: tx.to,
      data: tx.data.replace(fresh, toHex(other)) as Hex,
      chain: wallet.chain,
    });
    assertEquals((await (await post("/api/receipt", { hash })).json()).ok, true);
    const wrongKey = await boot("mallory.os", intruder);
    assertEquals(wrongKey.status, 409, await wrongKey.text());
    // The owner, now: the node boots as victim.os, and only once.
    const ok = await boot("victim.os", owner);
    const answer = await ok.text();
    assertEquals(ok.status, 200, answer);
    assertEquals(JSON.parse(answer).name, "victim.os");

    const node = await b.node;
    try {
      assertEquals(node.name, "victim.os");
    } finally {
      await node.shutdown();
      await Deno.remove(node.opts.home, { recursive: true }).catch(() => {});
    }
  } finally {
    b.setup.close();
    await chain.stop();
  }
});
