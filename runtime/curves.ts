/**
 * X25519 and Ed25519 through node:crypto (native code) from the raw 32-byte
 * keys the protocol carries. A Noise XX handshake does three X25519 products
 * and two key generations a side, and an Ed25519 signature and verification:
 * with @noble (pure JS) that was ~5 ms a side on a quiet machine, natively a
 * tenth of it. @noble stays the reference the tests compare with.
 *
 * Verification is RFC 8032's strict one (OpenSSL), as the reference node's
 * (ring) is: an honest signer's signatures pass both.
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, sign, verify } from "node:crypto";

/** DER (PKCS #8 / SPKI) prefixes that make a raw 32-byte key a key object (RFC 8410). */
const X25519_PRIVATE = Uint8Array.of(0x30, 0x2e, 2, 1, 0, 0x30, 5, 6, 3, 0x2b, 0x65, 0x6e, 4, 0x22, 4, 0x20);
const X25519_PUBLIC = Uint8Array.of(0x30, 0x2a, 0x30, 5, 6, 3, 0x2b, 0x65, 0x6e, 3, 0x21, 0);
const ED25519_PRIVATE = Uint8Array.of(0x30, 0x2e, 2, 1, 0, 0x30, 5, 6, 3, 0x2b, 0x65, 0x70, 4, 0x22, 4, 0x20);
const ED25519_PUBLIC = Uint8Array.of(0x30, 0x2a, 0x30, 5, 6, 3, 0x2b, 0x65, 0x70, 3, 0x21, 0);

function der(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  if (key.length !== 32) throw new RangeError(`a 25519 key is 32 bytes, not ${key.length}`);
  const out = new Uint8Array(prefix.length + 32);
  out.set(prefix);
  out.set(key, prefix.length);
  return out;
}

const privateKey = (prefix: Uint8Array, sk: Uint8Array) =>
  createPrivateKey({ key: der(prefix, sk) as Buffer, format: "der", type: "pkcs8" });
const publicKey = (prefix: Uint8Array, pk: Uint8Array) =>
  createPublicKey({ key: der(prefix, pk) as Buffer, format: "der", type: "spki" });
const rawPublic = (k: KeyObject) => new Uint8Array(k.export({ format: "der", type: "spki" }) as Uint8Array).slice(12);

export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return rawPublic(createPublicKey(privateKey(X25519_PRIVATE, secretKey)));
}

/** The shared secret; throws on a low-order public key (the result would be all zeros). */
export function x25519Shared(secretKey: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  const out = new Uint8Array(
    diffieHellman({
      privateKey: privateKey(X25519_PRIVATE, secretKey),
      publicKey: publicKey(X25519_PUBLIC, peerPublic),
    }),
  );
  if (out.every((b) => b === 0)) throw new RangeError("low-order public key");
  return out;
}

/** Key objects of our own signing keys, made once each. */
const signers = new WeakMap<Uint8Array, KeyObject>();

export function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  let key = signers.get(secretKey);
  if (!key) signers.set(secretKey, key = privateKey(ED25519_PRIVATE, secretKey));
  return new Uint8Array(sign(null, message, key));
}

export function ed25519Verify(key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, message, publicKey(ED25519_PUBLIC, key), signature);
  } catch {
    return false;
  }
}
