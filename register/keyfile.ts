/**
 * Keyfiles: what the registration pages hand the browser to keep, and what "import a keyfile" accepts.
 *
 * The reference's keyfile (Hyperdrive's keygen.rs, as its register UI downloads it): base64 of the JSON tuple
 * [name, routers, salt, networking key, jwt secret, file key], each secret AES-256-GCM sealed (12-byte nonce before
 * the ciphertext) under PBKDF2-HMAC-SHA256(1,000,000 rounds, the 32-byte salt) of the password hash, which is
 * argon2id(password, salt = the name, repeated to at least 8 characters; 32 bytes, t = 2, m = 19,456 KiB) as
 * "0x…" hex text. The networking key is an Ed25519 PKCS#8 document. We write that format, so a keyfile from here
 * boots a reference node and one from a reference node boots here; our own keys.json (with the node's name) is
 * accepted too.
 */
import { argon2id } from "@noble/hashes/argon2.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { decodeBase64, encodeBase64, toHex } from "../runtime/bytes.ts";
import { type NodeKeys, type StoredKeys, unlockKeys } from "../runtime/keys.ts";
import { WrongPassword } from "../runtime/errors.ts";
import { ParseError } from "../runtime/types.ts";

const PBKDF2_ROUNDS = 1_000_000;
/** Bigger than any keyfile (~1 KiB): refused before parsing. */
export const MAX_KEYFILE = 16 * 1024;

/** The reference's password hash: argon2id of the password, salted with the name (at least 8 characters of it). */
export function passwordHash(name: string, password: string): `0x${string}` {
  const salt = name.length >= 8 ? name : name.repeat(1 + Math.floor(8 / Math.max(1, name.length)));
  return `0x${toHex(argon2id(password, salt, { t: 2, m: 19456, p: 1, dkLen: 32 }))}`;
}

async function diskKey(hash: string, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(hash), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", salt, iterations: PBKDF2_ROUNDS, hash: "SHA-256" },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

async function seal(key: CryptoKey, plain: Uint8Array): Promise<number[]> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plain as Uint8Array<ArrayBuffer>),
  );
  return [...iv, ...ct];
}

async function open(key: CryptoKey, sealed: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.slice(0, 12) }, key, sealed.slice(12)),
  );
}

/** ring's Ed25519 PKCS#8 v2 template (what Hyperdrive's keys are): the seed at 16, `[1] { BIT STRING pub }` after. */
const RING_V2_HEAD = [0x30, 0x53, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const RING_V2_PUBLIC = [0xa1, 0x23, 0x03, 0x21, 0x00];
/** Any Ed25519 OneAsymmetricKey (v1 or v2) from byte 2: version, the algorithm, the seed's OCTET STRING. */
const ED25519_BODY = [0x02, 0x01, -1, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/** An Ed25519 key as the PKCS#8 v2 document ring writes and reads (seed and public key). */
export function pkcs8(secretKey: Uint8Array): Uint8Array {
  return new Uint8Array([...RING_V2_HEAD, ...secretKey, ...RING_V2_PUBLIC, ...ed25519.getPublicKey(secretKey)]);
}

/** The seed of an Ed25519 PKCS#8 document (v1, ring's v2, or RFC 8410's v2). */
export function seedOf(doc: Uint8Array): Uint8Array {
  const body = doc[0] === 0x30 && doc.length >= 48 &&
    ED25519_BODY.every((b, i) => b === -1 ? doc[2 + i] <= 1 : doc[2 + i] === b);
  if (body) return doc.slice(16, 48);
  throw new ParseError("the keyfile's networking key is not an Ed25519 PKCS#8 document");
}

/** The reference's keyfile for `name` (as base64 text, what the browser saves). */
export async function encodeKeyfile(
  name: string,
  routers: string[],
  secretKey: Uint8Array,
  password: string,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const key = await diskKey(passwordHash(name, password), salt);
  const tuple = [
    name,
    routers,
    [...salt],
    await seal(key, pkcs8(secretKey)),
    await seal(key, crypto.getRandomValues(new Uint8Array(32))),
    await seal(key, crypto.getRandomValues(new Uint8Array(32))),
  ];
  return encodeBase64(new TextEncoder().encode(JSON.stringify(tuple)));
}

export interface Imported {
  name: string;
  routers: string[];
  keys: NodeKeys;
}

const bytesOf = (v: unknown): Uint8Array | null =>
  Array.isArray(v) && v.length <= 4096 && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)
    ? new Uint8Array(v as number[])
    : null;

/**
 * Opens a keyfile: the reference's (base64 text, or its JSON tuple), or our keys.json (then `name` says whose it
 * is). A wrong password is WrongPassword; anything else unreadable a ParseError saying what it is not.
 */
export async function decodeKeyfile(text: string, name: string, password: string): Promise<Imported> {
  if (text.length > MAX_KEYFILE) throw new ParseError(`a keyfile is a few KiB, not ${text.length} bytes`);
  const trimmed = text.trim();
  let json: unknown;
  try {
    json = JSON.parse(trimmed.startsWith("[") || trimmed.startsWith("{") ? trimmed : atobText(trimmed));
  } catch {
    throw new ParseError("not a keyfile: neither a reference keyfile (base64 of a JSON list) nor a keys.json");
  }
  if (json && typeof json === "object" && !Array.isArray(json)) return await fromKeysJson(json, name, password);
  if (!Array.isArray(json) || json.length !== 6) throw new ParseError("not a keyfile: a keyfile lists 6 fields");
  const [fileName, routers, salt, netKey] = json;
  const sealed = bytesOf(netKey), s = bytesOf(salt);
  if (typeof fileName !== "string" || !Array.isArray(routers) || !routers.every((r) => typeof r === "string")) {
    throw new ParseError("not a keyfile: its name or routers are not text");
  }
  if (!sealed || sealed.length < 28 || !s) throw new ParseError("not a keyfile: its salt or key are not bytes");
  if (name && name !== fileName) throw new ParseError(`this keyfile is ${fileName}'s, not ${name}'s`);
  let doc: Uint8Array;
  try {
    doc = await open(await diskKey(passwordHash(fileName, password), s as Uint8Array<ArrayBuffer>), sealed);
  } catch {
    throw new WrongPassword(`wrong password for ${fileName}'s keyfile (its key would not decrypt)`);
  }
  const secretKey = seedOf(doc);
  return { name: fileName, routers, keys: { secretKey, publicKey: ed25519.getPublicKey(secretKey) } };
}

async function fromKeysJson(json: object, name: string, password: string): Promise<Imported> {
  const k = json as Partial<StoredKeys>;
  if (![k.public_key, k.salt, k.iv, k.secret].every((v) => typeof v === "string")) {
    throw new ParseError("not a keyfile: a keys.json has public_key, salt, iv and secret");
  }
  if (!name) throw new ParseError("a keys.json does not say whose it is: enter the node's name");
  return { name, routers: [], keys: await unlockKeys(k as StoredKeys, password, `${name}'s keys.json`) };
}

function atobText(b64: string): string {
  return new TextDecoder().decode(decodeBase64(b64));
}
