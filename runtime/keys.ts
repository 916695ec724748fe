/**
 * The node's networking identity: an Ed25519 key generated at first boot and
 * kept in <home>/keys.json, encrypted with the node's password (PBKDF2-SHA256
 * then AES-256-GCM, both from WebCrypto). A wrong password is a clear error.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { writeFileAtomicSync } from "./kernel/persist.ts";
import { ParseError } from "./types.ts";
import { decodeBase64, encodeBase64, toHex } from "./bytes.ts";
import { WrongPassword } from "./errors.ts";
import { ed25519Sign, ed25519Verify } from "./curves.ts";

const ITERATIONS = 210_000;

export interface NodeKeys {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

async function wrapKey(password: string, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", salt, iterations: ITERATIONS, hash: "SHA-256" },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** Loads the node's keys, or makes and saves new ones on first boot. */
export async function loadOrCreateKeys(home: string, password: string): Promise<NodeKeys> {
  const path = `${home}/keys.json`;
  let stored: StoredKeys | null = null;
  try {
    stored = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw new ParseError(`${path} is unreadable: ${(e as Error).message}`);
  }
  if (stored) return await unlockKeys(stored, password, `the node in ${home}`);
  const secretKey = ed25519.utils.randomSecretKey();
  await saveKeys(home, password, secretKey);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** What keys.json holds: the public key, and the secret key encrypted with the password. */
export interface StoredKeys {
  public_key: string;
  salt: string;
  iv: string;
  secret: string;
}

/** The keys of a keys.json, decrypted with `password`; a wrong one is WrongPassword naming `whose`. */
export async function unlockKeys(stored: StoredKeys, password: string, whose: string): Promise<NodeKeys> {
  let secretKey: Uint8Array;
  try {
    const key = await wrapKey(password, decodeBase64(stored.salt));
    secretKey = new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv: decodeBase64(stored.iv) }, key, decodeBase64(stored.secret)),
    );
  } catch {
    throw new WrongPassword(`wrong password for ${whose} (its keys would not decrypt)`);
  }
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** Whether `home` holds a node's keys. */
export function hasKeys(home: string): boolean {
  try {
    return Deno.statSync(`${home}/keys.json`).isFile;
  } catch {
    return false;
  }
}

/** Keeps `secretKey` as the node's key in <home>/keys.json, encrypted with `password` (a registration's, an import's). */
export async function saveKeys(home: string, password: string, secretKey: Uint8Array): Promise<NodeKeys> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await wrapKey(password, salt);
  const secret = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, secretKey as Uint8Array<ArrayBuffer>),
  );
  const publicKey = ed25519.getPublicKey(secretKey);
  writeFileAtomicSync(
    `${home}/keys.json`,
    new TextEncoder().encode(
      JSON.stringify({
        public_key: toHex(publicKey),
        salt: encodeBase64(salt),
        iv: encodeBase64(iv),
        secret: encodeBase64(secret),
      }),
    ),
  );
  return { secretKey, publicKey };
}

export function sign(keys: NodeKeys, message: Uint8Array): Uint8Array {
  return ed25519Sign(keys.secretKey, message);
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519Verify(publicKey, message, signature);
  } catch {
    return false;
  }
}
