/**
 * Noise_XX_25519_ChaChaPoly_BLAKE2s (Noise spec rev. 34), the state machine
 * alone: no sockets, no clocks. A handshake is three messages,
 *
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 *
 * after which split() gives one CipherState per direction.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { blake2s } from "@noble/hashes/blake2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { type Aead, nativeAead } from "./aead.ts";
import { concat } from "../../runtime/bytes.ts";
import { x25519PublicKey, x25519Shared } from "../../runtime/curves.ts";
import { type BoundCipher, type Libcrypto, loadLibcrypto } from "./aead_libcrypto.ts";

export const PROTOCOL_NAME = "Noise_XX_25519_ChaChaPoly_BLAKE2s";
const DHLEN = 32;
const HASHLEN = 32;
const TAG = 16;
/** Noise's limit on any message, handshake or transport. */
export const MAX_NOISE_MESSAGE = 65535;
const MAX_NONCE = (1n << 64n) - 1n;

export class NoiseError extends Error {
  override name = "NoiseError";
}

export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateKeyPair(secretKey?: Uint8Array): KeyPair {
  const sk = secretKey ?? x25519.utils.randomSecretKey();
  return { secretKey: sk, publicKey: x25519PublicKey(sk) };
}

function hkdf(ck: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const temp = hmac(blake2s, ck, ikm);
  const o1 = hmac(blake2s, temp, Uint8Array.of(1));
  const o2 = hmac(blake2s, temp, concat(o1, Uint8Array.of(2)));
  return [o1, o2];
}

/** One direction of an encrypted channel. */
export class CipherState {
  private n = 0n;
  constructor(private k: Uint8Array | null = null, private aead: Aead = nativeAead) {}

  hasKey(): boolean {
    return this.k !== null;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext;
    if (this.n >= MAX_NONCE) throw new NoiseError("nonce exhausted: rekey the connection");
    return this.aead.encrypt(this.k, this.n++, ad, plaintext);
  }

  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (!this.k) return ciphertext;
    if (this.n >= MAX_NONCE) throw new NoiseError("nonce exhausted: rekey the connection");
    const pt = this.aead.decrypt(this.k, this.n, ad, ciphertext);
    this.n++;
    return pt;
  }

  encrypt(plaintext: Uint8Array): Uint8Array {
    return this.encryptWithAd(EMPTY, plaintext);
  }

  /**
   * Seals `plaintext` (empty associated data, as transport messages have) into `out`; returns the bytes written
   * (plaintext and tag). Through libcrypto (aead_libcrypto.ts) the ciphertext is written there directly.
   */
  sealInto(plaintext: Uint8Array, out: Uint8Array): number {
    if (!this.k) {
      out.set(plaintext);
      return plaintext.length;
    }
    if (this.n >= MAX_NONCE) throw new NoiseError("nonce exhausted: rekey the connection");
    const bound = this.bound(), n = this.n++;
    if (bound) bound.seal(n, plaintext, out);
    else {
      let o = 0;
      const parts = this.aead.encryptParts?.(this.k, n, EMPTY, plaintext) ??
        [this.aead.encrypt(this.k, n, EMPTY, plaintext)];
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
    }
    return plaintext.length + TAG;
  }

  /** Opens `ciphertext` (empty associated data) into `out`; returns the plaintext's length. Throws AeadError. */
  openInto(ciphertext: Uint8Array, out: Uint8Array): number {
    if (!this.k) {
      out.set(ciphertext);
      return ciphertext.length;
    }
    if (this.n >= MAX_NONCE) throw new NoiseError("nonce exhausted: rekey the connection");
    const bound = this.bound();
    if (bound) bound.open(this.n, ciphertext, out);
    else out.set(this.aead.decrypt(this.k, this.n, EMPTY, ciphertext));
    this.n++;
    return ciphertext.length - TAG;
  }

  private lib: BoundCipher | null | undefined;
  /** libcrypto bound to this key, when it is there and this state would use node:crypto (the same cipher, slower). */
  private bound(): BoundCipher | null {
    if (this.lib !== undefined) return this.lib;
    const lib = this.aead === nativeAead ? loadLibcrypto() : null;
    // One context per direction; the encrypting one only ever seals, the other only opens.
    return this.lib = lib && this.k ? new LazyPair(lib, this.k) : null;
  }

  decrypt(ciphertext: Uint8Array): Uint8Array {
    return this.decryptWithAd(EMPTY, ciphertext);
  }
}

const EMPTY = new Uint8Array();

/** A key bound in libcrypto for sealing and for opening, each made at its first use. */
class LazyPair implements BoundCipher {
  private sealer: BoundCipher | null = null;
  private opener: BoundCipher | null = null;
  constructor(private lib: Libcrypto, private key: Uint8Array) {}
  seal(n: bigint, plaintext: Uint8Array, out: Uint8Array) {
    (this.sealer ??= this.lib.bind(this.key, true)).seal(n, plaintext, out);
  }
  open(n: bigint, ciphertext: Uint8Array, out: Uint8Array) {
    (this.opener ??= this.lib.bind(this.key, false)).open(n, ciphertext, out);
  }
  free() {
    this.sealer?.free();
    this.opener?.free();
  }
}

class SymmetricState {
  ck: Uint8Array;
  h: Uint8Array;
  cipher: CipherState;

  constructor(private aead: Aead) {
    const name = new TextEncoder().encode(PROTOCOL_NAME);
    this.h = name.length <= HASHLEN ? concat(name, new Uint8Array(HASHLEN - name.length)) : blake2s(name);
    this.ck = this.h;
    this.cipher = new CipherState(null, aead);
  }

  mixKey(ikm: Uint8Array) {
    const [ck, k] = hkdf(this.ck, ikm);
    this.ck = ck;
    this.cipher = new CipherState(k.subarray(0, 32), this.aead);
  }

  mixHash(data: Uint8Array) {
    this.h = blake2s(concat(this.h, data));
  }

  encryptAndHash(pt: Uint8Array): Uint8Array {
    const ct = this.cipher.encryptWithAd(this.h, pt);
    this.mixHash(ct);
    return ct;
  }

  decryptAndHash(ct: Uint8Array): Uint8Array {
    const pt = this.cipher.decryptWithAd(this.h, ct);
    this.mixHash(ct);
    return pt;
  }

  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf(this.ck, EMPTY);
    return [new CipherState(k1.subarray(0, 32), this.aead), new CipherState(k2.subarray(0, 32), this.aead)];
  }
}

export interface HandshakeOptions {
  initiator: boolean;
  /** This side's static key; a fresh one per connection when not given. */
  s?: KeyPair;
  /** Fixed ephemeral key, for test vectors only. */
  e?: KeyPair;
  prologue?: Uint8Array;
  aead?: Aead;
}

/** The XX handshake. Call writeMessage/readMessage in turn; then split(). */
export class HandshakeState {
  readonly initiator: boolean;
  private ss: SymmetricState;
  private s: KeyPair;
  private e: KeyPair | null;
  private re: Uint8Array | null = null;
  /** The peer's static public key, once its `s` token has been read. */
  rs: Uint8Array | null = null;
  private step = 0;

  constructor(opts: HandshakeOptions) {
    this.initiator = opts.initiator;
    this.ss = new SymmetricState(opts.aead ?? nativeAead);
    this.ss.mixHash(opts.prologue ?? EMPTY);
    this.s = opts.s ?? generateKeyPair();
    this.e = opts.e ?? null;
  }

  get staticPublicKey(): Uint8Array {
    return this.s.publicKey;
  }

  /** The handshake hash: equal on both sides after the last message. */
  get handshakeHash(): Uint8Array {
    return this.ss.h;
  }

  isDone(): boolean {
    return this.step >= 3;
  }

  /** Whether the next message is ours to write. */
  isMyTurn(): boolean {
    return (this.step % 2 === 0) === this.initiator;
  }

  private dh(sk: Uint8Array, pk: Uint8Array): Uint8Array {
    try {
      // Throws on an all-zero result: the peer sent a low-order point.
      return x25519Shared(sk, pk);
    } catch {
      throw new NoiseError("invalid public key from peer");
    }
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    if (this.isDone() || !this.isMyTurn()) throw new NoiseError("not our turn to write a handshake message");
    const parts: Uint8Array[] = [];
    const ss = this.ss;
    if (this.step === 0) {
      this.e ??= generateKeyPair();
      parts.push(this.e.publicKey);
      ss.mixHash(this.e.publicKey);
    } else if (this.step === 1) {
      this.e ??= generateKeyPair();
      parts.push(this.e.publicKey);
      ss.mixHash(this.e.publicKey);
      ss.mixKey(this.dh(this.e.secretKey, this.re!));
      parts.push(ss.encryptAndHash(this.s.publicKey));
      ss.mixKey(this.dh(this.s.secretKey, this.re!));
    } else {
      parts.push(ss.encryptAndHash(this.s.publicKey));
      ss.mixKey(this.dh(this.s.secretKey, this.re!));
    }
    parts.push(ss.encryptAndHash(payload));
    this.step++;
    const msg = concat(...parts);
    if (msg.length > MAX_NOISE_MESSAGE) throw new NoiseError("handshake message too long");
    return msg;
  }

  /** Reads the peer's handshake message and returns its payload. */
  readMessage(msg: Uint8Array): Uint8Array {
    if (this.isDone() || this.isMyTurn()) throw new NoiseError("not expecting a handshake message now");
    if (msg.length > MAX_NOISE_MESSAGE) throw new NoiseError("handshake message too long");
    const ss = this.ss;
    let o = 0;
    const take = (n: number) => {
      if (o + n > msg.length) throw new NoiseError("handshake message too short");
      const b = msg.subarray(o, o + n);
      o += n;
      return b;
    };
    if (this.step === 0) {
      this.re = take(DHLEN).slice();
      ss.mixHash(this.re);
    } else if (this.step === 1) {
      this.re = take(DHLEN).slice();
      ss.mixHash(this.re);
      ss.mixKey(this.dh(this.e!.secretKey, this.re));
      this.rs = ss.decryptAndHash(take(DHLEN + TAG)).slice();
      ss.mixKey(this.dh(this.e!.secretKey, this.rs));
    } else {
      this.rs = ss.decryptAndHash(take(DHLEN + TAG)).slice();
      ss.mixKey(this.dh(this.e!.secretKey, this.rs));
    }
    const payload = ss.decryptAndHash(msg.subarray(o));
    this.step++;
    return payload;
  }

  /** [initiator→responder, responder→initiator] */
  split(): [CipherState, CipherState] {
    if (!this.isDone()) throw new NoiseError("handshake is not finished");
    return this.ss.split();
  }
}
