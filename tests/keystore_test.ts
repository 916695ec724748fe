/** Web3 Secret Storage keystores (publish --keystore-path): the definition's vectors, round trips, refusals. */
import { assertEquals, assertThrows } from "./assert.ts";
import { decryptKeystore, encryptKeystore, KeystoreError } from "../cli/keystore.ts";
import { privateKeyToAddress } from "viem/accounts";
import vectors from "./vectors/web3_secret_storage.json" with { type: "json" };

for (const [kdf, keystore] of Object.entries(vectors.keystores)) {
  Deno.test(`keystore: the definition's ${kdf} vector opens to its secret and address`, () => {
    const key = decryptKeystore(JSON.stringify(keystore), vectors.password);
    assertEquals(key, vectors.secret);
    assertEquals(privateKeyToAddress(key).toLowerCase(), vectors.address);
  });
}

Deno.test("keystore: a wrong password is refused by the MAC, not decrypted to garbage", () => {
  assertThrows(
    () => decryptKeystore(JSON.stringify(vectors.keystores.pbkdf2), "testpassword!"),
    KeystoreError,
    "wrong password",
  );
});

Deno.test("keystore: one we write opens with its password only", () => {
  const key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
  const json = encryptKeystore(key, "pässword", 2 ** 10);
  assertEquals(decryptKeystore(json, "pässword"), key);
  assertThrows(() => decryptKeystore(json, "password"), KeystoreError, "wrong password");
});

Deno.test("keystore: hostile files are refused before any work: not JSON, other versions, huge scrypt costs", () => {
  const scrypt = structuredClone(vectors.keystores.scrypt);
  const cases: [unknown, string][] = [
    ["{", "not JSON"],
    [{ ...scrypt, version: 2 }, "not a version 3 keystore"],
    [{ ...scrypt, crypto: { ...scrypt.crypto, cipher: "aes-256-gcm" } }, "is not aes-128-ctr"],
    [
      { ...scrypt, crypto: { ...scrypt.crypto, kdfparams: { ...scrypt.crypto.kdfparams, n: 2 ** 30 } } },
      "out of range",
    ],
    [{ ...scrypt, crypto: { ...scrypt.crypto, kdf: "argon2" } }, "neither scrypt nor pbkdf2"],
    [{ ...scrypt, crypto: { ...scrypt.crypto, ciphertext: "zz" } }, "ciphertext is not hex"],
  ];
  for (const [file, message] of cases) {
    assertThrows(
      () => decryptKeystore(typeof file === "string" ? file : JSON.stringify(file), "x"),
      KeystoreError,
      message,
    );
  }
});
