/**
 * Login to the node's web side. The node's password (the one given at first
 * boot, which also encrypts its keys) is kept as a PBKDF2 verifier in
 * <home>/http/login.json, with a random key that signs what the server hands
 * out:
 *
 * - session cookies, the book's `<expiry>.<host>.<mac>`: the MAC covers the
 *   host, a scope (the node's pages, or one app's origin) and the logout
 *   generation, so a cookie opens only the host and scope it was issued for,
 *   and logging out ends every session at once;
 * - a per-session token the node's own pages carry in their forms (an app's
 *   page, on another origin, cannot read them);
 * - login form tokens: a browser's POST /login counts only with one, so a
 *   foreign page posting the form gets no say, and wrong passwords are slowed
 *   per form (per login session), under one overall limit;
 * - one-time hand-off tokens that carry a logged-in browser from the node's
 *   origin to an app's (origins.ts), where it gets a cookie of that app's own;
 * - device cookies, kept by a browser that logged in (across logouts): its
 *   attempts are slowed on their own and never wait on the overall limit, so
 *   whoever spends that limit (a local script fetching fresh forms) cannot
 *   lock the owner out of a browser it used before (OWASP's "device cookies").
 */
import { decodeBase64, encodeBase64 } from "../../runtime/bytes.ts";
import { readJsonSync, writeFileAtomicSync } from "../../runtime/kernel/persist.ts";
import { WrongPassword } from "../../runtime/errors.ts";
import { Turns } from "../../runtime/turns.ts";

const ITERATIONS = 100_000;
export const SESSION_SECONDS = 7 * 24 * 3600;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
/** Wrong passwords over all clients: this many at once, then one more each REFILL_MS (10 a minute). */
const OVERALL_BURST = 10;
const OVERALL_REFILL_MS = 6_000;
/** Attempts of one key waiting to be judged, past which more are refused at once. */
const MAX_WAITING_PER_KEY = 16;
const FORM_SECONDS = 3600;
export const DEVICE_SECONDS = 365 * 24 * 3600;
const HANDOFF_MS = 60_000;
const MAX_HANDOFFS = 1000;

interface Stored {
  salt: string;
  hash: string;
  session_key: string;
  /** Bumped by each logout: every cookie signed under an older one is void. */
  generation?: number;
}

/** Who a session cookie is for: the node's own pages, or one process's origin. */
export type Scope = "node" | `app:${string}`;

const enc = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of `s` only when `s` is how base64url writes them: the decoder ignores a last character's spare bits,
 * and a token that decodes alike when changed is one an attacker can vary without knowing the key. */
function fromBase64url(s: string): Uint8Array<ArrayBuffer> | null {
  try {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = decodeBase64(b64 + "=".repeat((4 - b64.length % 4) % 4));
    return base64url(bytes) === s ? bytes : null;
  } catch {
    return null;
  }
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
  /** The app's cookie, host-only on the app's origin; never the node's. */
  readonly appCookieName: string;
  /** A browser that logged in keeps this (auth.ts deviceToken), host-only on the node's host, Path=/login. */
  readonly deviceCookieName: string;
  private handoffs = new Map<string, { process: string; until: number }>();

  private constructor(
    readonly cookieName: string,
    private path: string,
    private stored: Stored,
    private mac: CryptoKey,
  ) {
    this.appCookieName = cookieName.replace("hyperware-auth_", "hyperware-app_");
    this.deviceCookieName = cookieName.replace("hyperware-auth_", "hyperware-device_");
  }

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
      writeStored(path, stored);
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
    return new Login(`hyperware-auth_${node}`, path, stored, mac);
  }

  async checkPassword(password: string): Promise<boolean> {
    return sameBytes(await derive(password, decodeBase64(this.stored.salt)), decodeBase64(this.stored.hash));
  }

  private async sign(text: string): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.sign("HMAC", this.mac, enc.encode(text)));
  }

  private verify(sig: Uint8Array<ArrayBuffer>, text: string): Promise<boolean> {
    return crypto.subtle.verify("HMAC", this.mac, sig, enc.encode(text));
  }

  private signed(body: string, scope: Scope): string {
    return `${body}|${scope}|${this.stored.generation ?? 0}`;
  }

  /** A session cookie value for `host` (lower case, without port) and `scope`. */
  async issue(host: string, scope: Scope = "node", now = Date.now()): Promise<string> {
    const body = `${Math.floor(now / 1000) + SESSION_SECONDS}.${host}`;
    return `${body}.${base64url(await this.sign(this.signed(body, scope)))}`;
  }

  /** Whether `value` is a cookie this node issued for `host` and `scope`, not expired nor logged out. */
  valid(value: string | undefined, host: string, scope: Scope = "node", now = Date.now()): Promise<boolean> {
    const no = Promise.resolve(false);
    if (!value || value.length > 512) return no;
    const last = value.lastIndexOf(".");
    const first = value.indexOf(".");
    if (first <= 0 || last <= first) return no;
    const body = value.slice(0, last);
    const [exp, forHost] = [value.slice(0, first), value.slice(first + 1, last)];
    if (forHost !== host || !/^\d+$/.test(exp) || Number(exp) * 1000 < now) return no;
    const sig = fromBase64url(value.slice(last + 1));
    return sig ? this.verify(sig, this.signed(body, scope)) : no;
  }

  /** Ends every session, the node's and every app's, in every browser. */
  logOutEverywhere() {
    this.stored = { ...this.stored, generation: (this.stored.generation ?? 0) + 1 };
    writeStored(this.path, this.stored);
  }

  /** The token the node's own pages put in their forms for the session `cookie` (POST /logout checks it). */
  async pageToken(cookie: string): Promise<string> {
    return base64url((await this.sign(`page|${cookie}`)).slice(0, 16));
  }

  async checkPageToken(cookie: string, token: string | null): Promise<boolean> {
    return token !== null && sameBytes(enc.encode(await this.pageToken(cookie)), enc.encode(token));
  }

  /** A token for one login form: `<expiry>.<nonce>.<mac>`. Its nonce keys that form's back-off. */
  formToken(now = Date.now()): Promise<string> {
    return this.nonceToken("form", FORM_SECONDS, now);
  }

  /** The form's nonce when `token` is one of ours and not expired, else null. */
  formNonce(token: string | null, now = Date.now()): Promise<string | null> {
    return this.nonceOf("form", token, now);
  }

  /** The value of a device cookie, for a browser that just logged in. */
  deviceToken(now = Date.now()): Promise<string> {
    return this.nonceToken("device", DEVICE_SECONDS, now);
  }

  /** The device's nonce when `token` is a device cookie of ours and not expired, else null. */
  deviceNonce(token: string | null | undefined, now = Date.now()): Promise<string | null> {
    return this.nonceOf("device", token ?? null, now);
  }

  private async nonceToken(kind: string, seconds: number, now: number): Promise<string> {
    const body = `${Math.floor(now / 1000) + seconds}.${base64url(crypto.getRandomValues(new Uint8Array(12)))}`;
    return `${body}.${base64url(await this.sign(`${kind}|${body}`))}`;
  }

  private async nonceOf(kind: string, token: string | null, now: number): Promise<string | null> {
    const parts = token?.split(".") ?? [];
    if (parts.length !== 3 || !/^\d+$/.test(parts[0]) || Number(parts[0]) * 1000 < now) return null;
    const sig = fromBase64url(parts[2]);
    return sig && await this.verify(sig, `${kind}|${parts[0]}.${parts[1]}`) ? parts[1] : null;
  }

  /** A one-time token that gets the bearer's browser a session on `process`'s origin, for a minute. */
  handOff(process: string, now = Date.now()): string {
    for (const [t, h] of this.handoffs) {
      if (h.until < now || this.handoffs.size >= MAX_HANDOFFS) this.handoffs.delete(t);
    }
    const token = base64url(crypto.getRandomValues(new Uint8Array(24)));
    this.handoffs.set(token, { process, until: now + HANDOFF_MS });
    return token;
  }

  /** Whether `token` was handed off for `process` and not yet used (it is used now). */
  takeHandOff(token: string | null, process: string, now = Date.now()): boolean {
    const h = token ? this.handoffs.get(token) : undefined;
    if (!h) return false;
    this.handoffs.delete(token!);
    return h.process === process && h.until >= now;
  }
}

function writeStored(path: string, stored: Stored) {
  writeFileAtomicSync(path, enc.encode(JSON.stringify(stored)));
  Deno.chmodSync(path, 0o600);
}

/** What the throttle made of a login attempt. */
export type Judgement<T> =
  /** Not checked: try again in this many ms. */
  | { refused: number }
  /** Wrong: this key's next attempt is heard in this many ms. */
  | { wrong: number }
  | { right: T };

/**
 * Wrong passwords: each login form (or, for scripts that post without one,
 * all of them together) waits twice as long after each (0.5 s up to 30 s),
 * and all of them share one budget that bounds guessing overall. A known
 * device (auth.ts deviceToken) has only its own wait: it neither spends nor
 * waits on the shared budget.
 *
 * Checking a password takes tens of milliseconds of PBKDF2, so guesses sent
 * side by side must not all pass the gate before the first is judged (30 at
 * once were 30 guesses against a budget of 10): an attempt spends the budget
 * when it begins (a right password gives it back), and one key's attempts are
 * judged one after another, each seeing the back-off its predecessor left.
 */
export class LoginThrottle {
  private fails = new Map<string, { count: number; until: number }>();
  /** One key's attempts are judged one after another. */
  private turns = new Turns();
  private budget = OVERALL_BURST;
  private refilled = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * Judges one attempt of `key` (`device`: a known device's key): `check`
   * answers the password's worth, or null when it is wrong; what it throws
   * counts for nothing and is thrown on.
   */
  async judge<T>(key: string, device: boolean, check: () => Promise<T | null>): Promise<Judgement<T>> {
    if (this.turns.waiting(key) >= MAX_WAITING_PER_KEY) return { refused: FIRST_DELAY_MS };
    return await this.turns.run(key, async (): Promise<Judgement<T>> => {
      const wait = this.begin(key, device);
      if (wait > 0) return { refused: wait };
      let value: T | null;
      try {
        value = await check();
      } catch (e) {
        this.giveBack(device);
        throw e;
      }
      if (value === null) return { wrong: this.failed(key) };
      this.fails.delete(key);
      this.giveBack(device);
      return { right: value };
    });
  }

  /** Milliseconds until `key` may try again; 0: it may, and the attempt has spent its share of the budget. */
  private begin(key: string, device: boolean): number {
    const now = this.clock();
    this.refill(now);
    const f = this.fails.get(key);
    const own = f ? Math.max(0, f.until - now) : 0;
    const overall = device || this.budget >= 1 ? 0 : Math.ceil((1 - this.budget) * OVERALL_REFILL_MS);
    const wait = Math.max(own, overall);
    if (wait === 0 && !device) this.budget -= 1;
    return wait;
  }

  private failed(key: string): number {
    const f = this.fails.get(key) ?? { count: 0, until: 0 };
    f.count++;
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (f.count - 1));
    f.until = this.clock() + delay;
    this.fails.delete(key); // re-inserted last: the oldest entries are the ones dropped
    this.fails.set(key, f);
    if (this.fails.size > 10_000) this.fails.delete(this.fails.keys().next().value!);
    return delay;
  }

  private giveBack(device: boolean) {
    if (!device) this.budget = Math.min(OVERALL_BURST, this.budget + 1);
  }

  private refill(now: number) {
    if (this.refilled) this.budget = Math.min(OVERALL_BURST, this.budget + (now - this.refilled) / OVERALL_REFILL_MS);
    this.refilled = now;
  }
}
