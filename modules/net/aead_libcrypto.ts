/**
 * The wire's ChaCha20-Poly1305 through the system's OpenSSL libcrypto (FFI),
 * sealing and opening into buffers the caller gives: the link seals each
 * piece straight into its socket's write buffer and opens each straight into
 * the message it assembles, so bulk traffic allocates nothing per piece.
 * node:crypto makes a stream object and a new output buffer for every piece
 * (16 a MiB), and its ChaCha runs at ~1 GiB/s here against ~3.9 for OpenSSL's
 * (`openssl speed -evp chacha20-poly1305`); together that was about a third
 * of a 1 GiB download's CPU time (README, Benchmarks).
 *
 * Used only when the node may load libraries (`--allow-ffi`; processes never
 * can: their sandboxes are made with ffi: false) and a libcrypto of OpenSSL
 * 1.1 or 3 is on the system; and only after it reproduces @noble's ciphertext
 * for a test vector at load. Otherwise `loadLibcrypto` returns null and the
 * link uses node:crypto.
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { AeadError } from "./aead.ts";

const TAG = 16;
/** EVP_CIPHER_CTX_ctrl commands (openssl/evp.h). */
const EVP_CTRL_AEAD_SET_IVLEN = 0x9;
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;

const SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_chacha20_poly1305: { parameters: [], result: "pointer" },
  EVP_CipherInit_ex: { parameters: ["pointer", "pointer", "pointer", "buffer", "buffer", "i32"], result: "i32" },
  EVP_CipherUpdate: { parameters: ["pointer", "buffer", "buffer", "buffer", "i32"], result: "i32" },
  EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  OPENSSL_init_crypto: { parameters: ["u64", "pointer"], result: "i32", optional: true },
} as const;

/**
 * OPENSSL_init_crypto's flag that keeps OpenSSL from registering its clean-up with atexit (1.1.1 and later). That
 * handler frees OpenSSL's globals while the process's other threads still run; a library loaded by a program that
 * did not link it is the case the flag exists for. A hardening, not a proven cure: the one SIGSEGV at a process's
 * exit while this was opt-in (README, Benchmarks) has not been seen again, in the kernel's log either.
 */
const OPENSSL_INIT_NO_ATEXIT = 0x00080000n;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Where OpenSSL's libcrypto is found on the systems we run on (the loader's own search path first). */
const NAMES = ["libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so", "libcrypto.3.dylib"];

/** One direction's key, bound once: seal or open pieces with a counter nonce into the caller's buffers. */
export interface BoundCipher {
  /** Writes plaintext's ciphertext and tag to out[0, plaintext.length + 16). */
  seal(n: bigint, plaintext: Uint8Array, out: Uint8Array): void;
  /** Writes ciphertext's plaintext to out[0, ciphertext.length - 16); throws AeadError on a bad tag. */
  open(n: bigint, ciphertext: Uint8Array, out: Uint8Array): void;
  free(): void;
}

export interface Libcrypto {
  bind(key: Uint8Array, encrypt: boolean): BoundCipher;
}

let loaded: Libcrypto | null | undefined;

/**
 * libcrypto's ChaCha20-Poly1305, or null when this process may not or cannot use it, or was told not to:
 * HYPERDENO_NO_LIBCRYPTO=1 keeps the wire on node:crypto (`always`: the tests of this file load it regardless).
 */
export function loadLibcrypto(opts: { always?: boolean } = {}): Libcrypto | null {
  try {
    if (!opts.always && Deno.env.get("HYPERDENO_NO_LIBCRYPTO") === "1") return null;
  } catch {
    return null;
  }
  if (loaded !== undefined) return loaded;
  loaded = null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  } catch {
    return null;
  }
  for (const name of NAMES) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(name, SYMBOLS);
    } catch {
      continue;
    }
    try {
      // Before any other call into it: once OpenSSL has initialised, the flag no longer applies.
      lib.symbols.OPENSSL_init_crypto?.(OPENSSL_INIT_NO_ATEXIT, null);
      const candidate = bindings(lib.symbols);
      if (selfTest(candidate)) return loaded = candidate;
    } catch { /* not this one */ }
    lib.close();
  }
  return null;
}

function bindings(s: Lib): Libcrypto {
  const cipher = s.EVP_chacha20_poly1305();
  if (cipher === null) throw new Error("no chacha20-poly1305 in this libcrypto");
  const freed = new FinalizationRegistry<Deno.PointerValue>((ctx) => s.EVP_CIPHER_CTX_free(ctx));
  return {
    bind(key, encrypt) {
      if (key.length !== 32) throw new RangeError("a ChaCha20-Poly1305 key is 32 bytes");
      const ctx = s.EVP_CIPHER_CTX_new();
      if (ctx === null) throw new Error("libcrypto could not make a cipher context");
      const enc = encrypt ? 1 : 0;
      if (
        s.EVP_CipherInit_ex(ctx, cipher, null, null, null, enc) !== 1 ||
        s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, null) !== 1 ||
        s.EVP_CipherInit_ex(ctx, null, null, key, null, enc) !== 1
      ) {
        s.EVP_CIPHER_CTX_free(ctx);
        throw new Error("libcrypto refused the key");
      }
      const iv = new Uint8Array(12);
      const ivView = new DataView(iv.buffer);
      const outl = new Int32Array(1);
      const outlBytes = new Uint8Array(outl.buffer);
      const tag = new Uint8Array(TAG);
      const scratch = new Uint8Array(16);
      let live = true;
      const token = {};
      freed.register(token, ctx, token);
      const setNonce = (n: bigint) => {
        ivView.setBigUint64(4, n, true);
        if (s.EVP_CipherInit_ex(ctx, null, null, null, iv, -1) !== 1) throw new Error("libcrypto refused a nonce");
      };
      return {
        seal(n, plaintext, out) {
          if (!live) throw new Error("this cipher was freed");
          if (out.length < plaintext.length + TAG) throw new RangeError("seal: out is shorter than the ciphertext");
          setNonce(n);
          if (s.EVP_CipherUpdate(ctx, out, outlBytes, plaintext, plaintext.length) !== 1) {
            throw new Error("libcrypto could not seal");
          }
          if (s.EVP_CipherFinal_ex(ctx, scratch, outlBytes) !== 1) throw new Error("libcrypto could not seal");
          if (s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG, tag) !== 1) throw new Error("no tag");
          out.set(tag, plaintext.length);
        },
        open(n, ciphertext, out) {
          if (!live) throw new Error("this cipher was freed");
          if (ciphertext.length < TAG) throw new AeadError("ciphertext shorter than its tag");
          const len = ciphertext.length - TAG;
          if (out.length < len) throw new RangeError("open: out is shorter than the plaintext");
          setNonce(n);
          tag.set(ciphertext.subarray(len));
          if (s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG, tag) !== 1) throw new Error("tag refused");
          if (s.EVP_CipherUpdate(ctx, out, outlBytes, ciphertext, len) !== 1) {
            throw new AeadError("message failed authentication");
          }
          if (s.EVP_CipherFinal_ex(ctx, scratch, outlBytes) !== 1) {
            // The bytes written to out are not authentic: nothing may read them.
            out.fill(0, 0, len);
            throw new AeadError("message failed authentication");
          }
        },
        free() {
          if (!live) return;
          live = false;
          freed.unregister(token);
          s.EVP_CIPHER_CTX_free(ctx);
        },
      };
    },
  };
}

/** Whether `lib` seals and opens as @noble does, and refuses a forged tag. */
function selfTest(lib: Libcrypto): boolean {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const pt = crypto.getRandomValues(new Uint8Array(1000));
  const n = 0x0102030405n;
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(4, n, true);
  const expected = chacha20poly1305(key, iv).encrypt(pt);
  const sealer = lib.bind(key, true), opener = lib.bind(key, false);
  try {
    const ct = new Uint8Array(pt.length + TAG);
    sealer.seal(n, pt, ct);
    if (!ct.every((b, i) => b === expected[i])) return false;
    const back = new Uint8Array(pt.length);
    opener.open(n, ct, back);
    if (!back.every((b, i) => b === pt[i])) return false;
    ct[7] ^= 1;
    try {
      opener.open(n, ct, back);
      return false;
    } catch (e) {
      return e instanceof AeadError;
    }
  } finally {
    sealer.free();
    opener.free();
  }
}
