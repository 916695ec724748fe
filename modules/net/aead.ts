/**
 * ChaCha20-Poly1305 as Noise uses it: a 32-byte key, a 64-bit counter nonce
 * (4 zero bytes, then the counter little-endian), associated data. Two
 * implementations behind one shape: node:crypto (native, ~6× faster here,
 * for bulk traffic) and @noble/ciphers (pure JS, the reference in tests).
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";

export interface Aead {
  encrypt(key: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The same ciphertext as encrypt, as parts to join (the sealed bytes, then the tag): no copy to join them. */
  encryptParts?(key: Uint8Array, n: bigint, ad: Uint8Array, plaintext: Uint8Array): Uint8Array[];
  /** Throws AeadError when the tag does not verify. */
  decrypt(key: Uint8Array, n: bigint, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

export class AeadError extends Error {
  override name = "AeadError";
}

const TAG = 16;

export function nonce(n: bigint): Uint8Array {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setBigUint64(4, n, true);
  return b;
}

export const nativeAead: Aead = {
  encryptParts(key, n, ad, plaintext) {
    const c = createCipheriv("chacha20-poly1305", key, nonce(n), { authTagLength: TAG });
    c.setAAD(ad, { plaintextLength: plaintext.length });
    const head = c.update(plaintext);
    const tail = c.final();
    return tail.length ? [head, tail, c.getAuthTag()] : [head, c.getAuthTag()];
  },
  encrypt(key, n, ad, plaintext) {
    const c = createCipheriv("chacha20-poly1305", key, nonce(n), { authTagLength: TAG });
    c.setAAD(ad, { plaintextLength: plaintext.length });
    const head = c.update(plaintext);
    const tail = c.final();
    const tag = c.getAuthTag();
    const out = new Uint8Array(head.length + tail.length + TAG);
    out.set(head, 0);
    out.set(tail, head.length);
    out.set(tag, head.length + tail.length);
    return out;
  },
  decrypt(key, n, ad, ciphertext) {
    if (ciphertext.length < TAG) throw new AeadError("ciphertext shorter than its tag");
    const d = createDecipheriv("chacha20-poly1305", key, nonce(n), { authTagLength: TAG });
    d.setAAD(ad, { plaintextLength: ciphertext.length - TAG });
    d.setAuthTag(ciphertext.subarray(ciphertext.length - TAG));
    const head = d.update(ciphertext.subarray(0, ciphertext.length - TAG));
    try {
      const tail = d.final();
      if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length);
      const out = new Uint8Array(head.length + tail.length);
      out.set(head);
      out.set(tail, head.length);
      return out;
    } catch {
      throw new AeadError("message failed authentication");
    }
  },
};

export const pureAead: Aead = {
  encrypt: (key, n, ad, plaintext) => chacha20poly1305(key, nonce(n), ad).encrypt(plaintext),
  decrypt(key, n, ad, ciphertext) {
    try {
      return chacha20poly1305(key, nonce(n), ad).decrypt(ciphertext);
    } catch {
      throw new AeadError("message failed authentication");
    }
  },
};
