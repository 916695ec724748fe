/**
 * Keyfiles as the reference writes them (Hyperdrive's keygen.rs): one built here independently with node:crypto in
 * its layout opens with our decoder, ours open with node:crypto, the networking key is ring's PKCS#8 v2 document (and a
 * v1 one node:crypto writes reads as the same key), and bad input is a typed error: a wrong password, another node's keyfile, garbage, a keys.json
 * without its name.
 */
import { createCipheriv, createDecipheriv, generateKeyPairSync, pbkdf2Sync } from "node:crypto";
import { Buffer } from "node:buffer";
import { ed25519 } from "@noble/curves/ed25519.js";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { decodeKeyfile, encodeKeyfile, passwordHash, pkcs8, seedOf } from "../register/keyfile.ts";
import { saveKeys } from "../runtime/keys.ts";
import { WrongPassword } from "../runtime/errors.ts";
import { ParseError } from "../runtime/types.ts";

const sealed = (key: Buffer, plain: Uint8Array) => {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const c = createCipheriv("aes-256-gcm", key, iv);
  return [...iv, ...c.update(plain), ...c.final(), ...c.getAuthTag()];
};

Deno.test("keyfile: the reference's layout, both ways, and its refusals", async () => {
  const secret = ed25519.utils.randomSecretKey();
  const pub = ed25519.getPublicKey(secret);

  // The networking key is ring's PKCS#8 v2 document (85 bytes: the seed, then [1] the public key), and a PKCS#8
  // document node:crypto writes (v1) reads as the same Ed25519 key.
  const doc8 = pkcs8(secret);
  assertEquals([doc8.length, doc8[1], doc8[4], doc8[48]], [85, 0x53, 1, 0xa1]);
  assertEquals(doc8.slice(53), pub);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const v1 = new Uint8Array(privateKey.export({ format: "der", type: "pkcs8" }));
  const spki = publicKey.export({ format: "der", type: "spki" });
  assertEquals(ed25519.getPublicKey(seedOf(v1)), new Uint8Array(spki.subarray(spki.length - 32)));

  // A keyfile made as keygen.rs makes one, with node:crypto, opens here (salt: the name, repeated to 8 characters).
  assertEquals(passwordHash("ab.os", "pw").length, 66);
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const disk = pbkdf2Sync(passwordHash("ab.os", "s3cret!"), salt, 1_000_000, 32, "sha256");
  const tuple = ["ab.os", ["r1.hypr"], [...salt], sealed(disk, pkcs8(secret)), sealed(disk, new Uint8Array(32)), []];
  tuple[5] = sealed(disk, new Uint8Array(32));
  const reference = btoa(JSON.stringify(tuple));
  const opened = await decodeKeyfile(reference, "ab.os", "s3cret!");
  assertEquals([opened.name, opened.routers, opened.keys.publicKey], ["ab.os", ["r1.hypr"], pub]);

  // Ours opens with node:crypto the same way.
  const ours = JSON.parse(atob(await encodeKeyfile("alice.os", [], secret, "s3cret!")));
  assertEquals(ours.slice(0, 2), ["alice.os", []]);
  const key = pbkdf2Sync(passwordHash("alice.os", "s3cret!"), Buffer.from(ours[2]), 1_000_000, 32, "sha256");
  const net = Buffer.from(ours[3]);
  const d = createDecipheriv("aes-256-gcm", key, net.subarray(0, 12));
  d.setAuthTag(net.subarray(net.length - 16));
  const doc = Buffer.concat([d.update(net.subarray(12, net.length - 16)), d.final()]);
  assertEquals(new Uint8Array(doc), pkcs8(secret));

  await assertRejects(() => decodeKeyfile(reference, "ab.os", "wrong"), WrongPassword);
  await assertRejects(() => decodeKeyfile(reference, "someone.os", "s3cret!"), ParseError);
  await assertRejects(() => decodeKeyfile("not a keyfile at all", "", "s3cret!"), ParseError);
  await assertRejects(() => decodeKeyfile(btoa("[1,2,3]"), "", "s3cret!"), ParseError);
  await assertRejects(() => decodeKeyfile("x".repeat(20_000), "", "s3cret!"), ParseError);

  // A hyperdeno keys.json, with the name it belongs to.
  const home = await Deno.makeTempDir();
  try {
    await saveKeys(home, "s3cret!", secret);
    const json = await Deno.readTextFile(`${home}/keys.json`);
    await assertRejects(() => decodeKeyfile(json, "", "s3cret!"), ParseError);
    const mine = await decodeKeyfile(json, "alice.os", "s3cret!");
    assert(mine.keys.secretKey.every((b, i) => b === secret[i]));
    await assertRejects(() => decodeKeyfile(json, "alice.os", "nope"), WrongPassword);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
