/**
 * Login to the node's web side. The node's password (the one given at first
 * boot, which also encrypts its keys) is kept as a PBKDF2 verifier in
 * <home>/http/login.json, with a random key that signs session cookies.
 *
 * The cookie is the book's `hyperware-auth_<node>`: `<expiry>.<host>.<mac>`,
 * an HMAC-SHA256 over the expiry and the host it was issued for, so a cookie
 * from the main domain does not open an app's secure subdomain (host-only
 * cookies keep browsers from sending it there anyway). Wrong passwords are
 * slowed per client address: each failure doubles the wait before the next
 * attempt is heard (up to 30 s).
 */
import { decodeBase64, encodeBase64 } from "../../runtime/bytes.ts";
import { readJsonSync, writeFileAtomicSync } from "../../runtime/kernel/persist.ts";
import { WrongPassword } from "../../runtime/errors.ts";

const ITERATIONS = 100_000;
export const SESSION_SECONDS = 7 * 24 * 3600;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

interface Stored {
  salt: string;
  hash: string;
  session_key: string;
}

async function derive(password: string, salt: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", salt, iterations: ITERATIONS, hash: "SHA-256" }, base, 256),
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export class Login {
  private constructor(
    readonly cookieName: string,
    private stored: Stored,
    private mac: CryptoKey,
  ) {}

  /**
   * The node's login: made from `password` on first boot; on later boots a
   * password that does not match the one set then is refused (as the keys are).
   */
  static async open(home: string, node: string, password: string): Promise<Login> {
    Deno.mkdirSync(`${home}/http`, { recursive: true });
    const path = `${home}/http/login.json`;
    let stored = readJsonSync<Stored | null>(path, null);
    if (!stored) {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      stored = {
        salt: encodeBase64(salt),
        hash: encodeBase64(await derive(password, salt)),
        session_key: encodeBase64(crypto.getRandomValues(new Uint8Array(32))),
      };
      writeFileAtomicSync(path, new TextEncoder().encode(JSON.stringify(stored)));
      Deno.chmodSync(path, 0o600);
    } else if (!sameBytes(await derive(password, decodeBase64(stored.salt)), decodeBase64(stored.hash))) {
      throw new WrongPassword(`wrong password for the node in ${home} (it does not match the one set at first boot)`);
    }
    const mac = await crypto.subtle.importKey(
      "raw",
      decodeBase64(stored.session_key),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    return new Login(`hyperware-auth_${node}`, stored, mac);
  }

  async checkPassword(password: string): Promise<boolean> {
    return sameBytes(await derive(password, decodeBase64(this.stored.salt)), decodeBase64(this.stored.hash));
  }

  /** A session cookie value for `host` (lower case, without port). */
  async issue(host: string, now = Date.now()): Promise<string> {
    const body = `${Math.floor(now / 1000) + SESSION_SECONDS}.${host}`;
    const sig = new Uint8Array(await crypto.subtle.sign("HMAC", this.mac, new TextEncoder().encode(body)));
    return `${body}.${encodeBase64(sig).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
  }

  /** Whether `value` is a cookie this node issued for `host`, not expired. */
  valid(value: string | undefined, host: string, now = Date.now()): Promise<boolean> {
    const no = Promise.resolve(false);
    if (!value || value.length > 512) return no;
    const last = value.lastIndexOf(".");
    const first = value.indexOf(".");
    if (first <= 0 || last <= first) return no;
    const body = value.slice(0, last);
    const [exp, forHost] = [value.slice(0, first), value.slice(first + 1, last)];
    if (forHost !== host || !/^\d+$/.test(exp) || Number(exp) * 1000 < now) return no;
    let sig: Uint8Array<ArrayBuffer>;
    try {
      const b64 = value.slice(last + 1).replace(/-/g, "+").replace(/_/g, "/");
      sig = decodeBase64(b64 + "=".repeat((4 - b64.length % 4) % 4));
    } catch {
      return no;
    }
    return crypto.subtle.verify("HMAC", this.mac, sig, new TextEncoder().encode(body));
  }
}

/** Failed logins per client address: how long the next attempt must wait. */
export class LoginThrottle {
  private fails = new Map<string, { count: number; until: number }>();

  /** Milliseconds until `who` may try again (0: now). */
  wait(who: string, now = Date.now()): number {
    const f = this.fails.get(who);
    return f ? Math.max(0, f.until - now) : 0;
  }

  failed(who: string, now = Date.now()): number {
    const f = this.fails.get(who) ?? { count: 0, until: 0 };
    f.count++;
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (f.count - 1));
    f.until = now + delay;
    this.fails.set(who, f);
    if (this.fails.size > 10_000) this.fails.delete(this.fails.keys().next().value!);
    return delay;
  }

  succeeded(who: string) {
    this.fails.delete(who);
  }
}
