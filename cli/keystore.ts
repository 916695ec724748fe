/**
 * Web3 Secret Storage (version 3) keystores, as `cast wallet import` and geth write them and kit publish reads
 * them: the key is AES-128-CTR encrypted under a key derived from the password with scrypt or PBKDF2-SHA256, and
 * the MAC (keccak256 of the derived key's second half and the ciphertext) tells a wrong password. Written with
 * @noble (viem has no keystore support; noble is what it uses underneath).
 */
import { scrypt } from "@noble/hashes/scrypt.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { ctr } from "@noble/ciphers/aes.js";
import { bytesToHex, type Hex, hexToBytes } from "viem";

export class KeystoreError extends Error {
  override name = "KeystoreError";
}

/** scrypt parameters a keystore may ask for at most (a hostile file could ask for gigabytes). */
const MAX_SCRYPT_N = 2 ** 20;
const MAX_PBKDF2_C = 10_000_000;

interface V3 {
  version: number;
  crypto?: Crypto;
  Crypto?: Crypto;
}
interface Crypto {
  cipher: string;
  ciphertext: string;
  cipherparams: { iv: string };
  kdf: string;
  kdfparams: Record<string, unknown>;
  mac: string;
}

const unhex = (h: unknown, what: string): Uint8Array => {
  if (typeof h !== "string" || !/^(0x)?([0-9a-fA-F]{2})*$/.test(h)) throw new KeystoreError(`${what} is not hex`);
  return hexToBytes(`0x${h.replace(/^0x/, "")}` as Hex);
};

function derive(c: Crypto, password: string): Uint8Array {
  const p = c.kdfparams;
  const salt = unhex(p.salt, "kdfparams.salt");
  const dklen = Number(p.dklen);
  if (dklen !== 32) throw new KeystoreError("kdfparams.dklen is not 32");
  const pw = new TextEncoder().encode(password.normalize("NFKD"));
  if (c.kdf === "scrypt") {
    const [N, r, pp] = [Number(p.n), Number(p.r), Number(p.p)];
    if (!(N > 1 && N <= MAX_SCRYPT_N && r > 0 && r <= 16 && pp > 0 && pp <= 16)) {
      throw new KeystoreError(`scrypt parameters n=${p.n} r=${p.r} p=${p.p} are out of range`);
    }
    return scrypt(pw, salt, { N, r, p: pp, dkLen: dklen, maxmem: 2 ** 31 });
  }
  if (c.kdf === "pbkdf2") {
    const count = Number(p.c);
    if (p.prf !== "hmac-sha256" || !(count > 0 && count <= MAX_PBKDF2_C)) {
      throw new KeystoreError("pbkdf2 parameters are not hmac-sha256 with a sane count");
    }
    return pbkdf2(sha256, pw, salt, { c: count, dkLen: dklen });
  }
  throw new KeystoreError(`kdf ${JSON.stringify(c.kdf)} is neither scrypt nor pbkdf2`);
}

/** The private key in keystore `json`, decrypted with `password`; KeystoreError for a wrong password or a bad file. */
export function decryptKeystore(json: string, password: string): Hex {
  let v: V3;
  try {
    v = JSON.parse(json);
  } catch {
    throw new KeystoreError("the keystore is not JSON");
  }
  const c = v?.crypto ?? v?.Crypto;
  if (v?.version !== 3 || !c || typeof c !== "object") throw new KeystoreError("not a version 3 keystore");
  if (c.cipher !== "aes-128-ctr") throw new KeystoreError(`cipher ${JSON.stringify(c.cipher)} is not aes-128-ctr`);
  const ciphertext = unhex(c.ciphertext, "ciphertext");
  const iv = unhex(c.cipherparams?.iv, "cipherparams.iv");
  if (iv.length !== 16) throw new KeystoreError("cipherparams.iv is not 16 bytes");
  const key = derive(c, password);
  const mac = keccak_256(new Uint8Array([...key.subarray(16, 32), ...ciphertext]));
  if (bytesToHex(mac) !== `0x${String(c.mac).replace(/^0x/, "").toLowerCase()}`) {
    throw new KeystoreError("wrong password for this keystore (its MAC does not match)");
  }
  const secret = ctr(key.subarray(0, 16), iv).decrypt(ciphertext);
  if (secret.length !== 32) throw new KeystoreError("the keystore's key is not 32 bytes");
  return bytesToHex(secret);
}

/** A version 3 keystore of `privateKey` (scrypt n=2^13 unless told), as `cast wallet import` writes one. */
export function encryptKeystore(privateKey: Hex, password: string, n = 2 ** 13): string {
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const key = scrypt(new TextEncoder().encode(password.normalize("NFKD")), salt, { N: n, r: 8, p: 1, dkLen: 32 });
  const ciphertext = ctr(key.subarray(0, 16), iv).encrypt(hexToBytes(privateKey));
  const mac = keccak_256(new Uint8Array([...key.subarray(16, 32), ...ciphertext]));
  const strip = (b: Uint8Array) => bytesToHex(b).slice(2);
  return JSON.stringify({
    version: 3,
    id: crypto.randomUUID(),
    crypto: {
      cipher: "aes-128-ctr",
      ciphertext: strip(ciphertext),
      cipherparams: { iv: strip(iv) },
      kdf: "scrypt",
      kdfparams: { dklen: 32, n, p: 1, r: 8, salt: strip(salt) },
      mac: strip(mac),
    },
  });
}
