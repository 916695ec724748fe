/**
 * The node's port before it has a name: the registration pages (pages.ts, ui/register.js) and the endpoints they
 * call, on the same guarded listener and HTTP reader as the node's own server. The wallet signs and sends in the
 * browser; here the node reads the chain, encodes the transactions (wallet_calls.ts), generates its networking key,
 * and, once the name's owner has signed the boot message, keeps the key under the password, logs the browser in
 * and hands over to the booting node.
 *
 * Nobody but this machine's own pages can claim the node before its owner does: the listener is on loopback; every
 * request must name this node's loopback Host and port (a rebound DNS name carries its own); the endpoints refuse
 * cross-site requests (cross_site.ts) and want Content-Type application/json, which another page can only send after
 * a CORS preflight this server never approves; and a boot, a reset or a registration needs the name's owner's
 * signature (boot_message.ts). Only one boot is ever accepted.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { ed25519 } from "@noble/curves/ed25519.js";
import { type Hex, isAddress, isHex } from "viem";
import { guardedListen, type GuardedListener } from "../runtime/sockets/listener.ts";
import { type ConnEnv, errorResponse, serveConnection } from "../modules/http_server/connection.ts";
import { HTTP_LIMITS } from "../modules/http_server/mod.ts";
import { crossSiteRefusal } from "../modules/http_server/cross_site.ts";
import { checkJsonShape, checkLocalCaller } from "../modules/http_server/local_only.ts";
import { readLimited } from "../modules/http_server/body.ts";
import { Login, LoginThrottle, SESSION_SECONDS } from "../modules/http_server/auth.ts";
import { HttpError } from "../runtime/sockets/http1.ts";
import { ConnEnded } from "../runtime/sockets/http1.ts";
import type { ChainClient } from "../chain/client.ts";
import { chainName } from "../chain/networks.ts";
import type { Publish } from "../chain/register.ts";
import { type NodeKeys, saveKeys, unlockKeys } from "../runtime/keys.ts";
import { toHex } from "../runtime/bytes.ts";
import { WrongPassword } from "../runtime/errors.ts";
import { ParseError } from "../runtime/types.ts";
import { type RealIdentity, writeIdentity } from "./identity.ts";
import { commitTx, mintTx, nameStatus, notesOnChain, receipt, resetTx, simulate } from "./wallet_calls.ts";
import { bootSigner, bootTypedData, staleness } from "./boot_message.ts";
import { decodeKeyfile, encodeKeyfile, MAX_KEYFILE, passwordHash } from "./keyfile.ts";
import { parseRouters, pickRouters, routerCandidates } from "./routers.ts";
import { setupPage } from "./pages.ts";
import type { HnsUpdate } from "../runtime/api/net.ts";

type C = Context<{ Bindings: ConnEnv }>;

export interface SetupOptions {
  home: string;
  port: number;
  chain: ChainClient;
  chainId: number;
  /** The ports a direct node publishes and binds (chosen before registration, as the reference binds them first). */
  tcpPort: number;
  wsPort: number;
  /** The address offered for a direct node. */
  ip: string;
  /** A home that holds an identity: the pages offer logging in to it. */
  identity: RealIdentity | null;
  /** Direct nodes indexed so far (router candidates). */
  indexed: () => Iterable<HnsUpdate>;
  log: (verbosity: number, text: string) => void;
}

/** What the node boots with once its owner is done with the pages. */
export interface Booting {
  identity: RealIdentity;
  keys: NodeKeys;
  password: string;
}

const MIN_PASSWORD = 6;
const SCRIPT = new URL("./ui/register.js", import.meta.url);

export class SetupServer {
  private listener!: GuardedListener;
  /** The networking key offered to a new registration (or a reset), kept only if it boots. */
  private readonly fresh = ed25519.utils.randomSecretKey();
  private booting: Booting | null = null;
  private resolveBoot!: (b: Booting) => void;
  /** Resolves once a boot was accepted and its answer written. */
  readonly booted = new Promise<Booting>((r) => this.resolveBoot = r);
  private throttle = new LoginThrottle();
  private script = "";

  constructor(private o: SetupOptions) {}

  get port(): number {
    return this.listener.port;
  }

  get freshPublicKey(): Hex {
    return `0x${toHex(ed25519.getPublicKey(this.fresh))}`;
  }

  async start(): Promise<this> {
    this.script = await Deno.readTextFile(SCRIPT);
    const app = this.app();
    this.listener = guardedListen(
      this.o.port,
      HTTP_LIMITS,
      (slot) => serveConnection(slot, { fetch: app.fetch, log: this.o.log }, HTTP_LIMITS.pendingTimeoutMs),
      this.o.log,
    );
    return this;
  }

  close() {
    this.listener?.close();
  }

  private ours(host: string | undefined): boolean {
    const port = this.listener.port;
    return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host?.toLowerCase() ?? "");
  }

  private app() {
    const app = new Hono<{ Bindings: ConnEnv }>();
    // Every request names this node (DNS rebinding), and the endpoints come from its own pages only.
    app.use("*", async (c, next) => {
      const host = c.env.head.headers.get("host") ?? undefined;
      if (!this.ours(host)) {
        return c.json({ error: `Host ${host ?? "(none)"} is not this node: open http://localhost:${this.port}/` }, 403);
      }
      const refusal = crossSiteRefusal(c.env.head, c.env.target.host);
      if (refusal) return c.json({ error: refusal }, 403);
      if (c.req.method === "POST") checkLocalCaller(c.env.head.headers, this.port);
      c.header("cache-control", "no-store");
      await next();
    });

    const page = (c: C) => {
      c.header("x-frame-options", "DENY");
      c.header(
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; " +
          "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      );
      c.header("referrer-policy", "same-origin");
      return c.html(setupPage());
    };
    for (const p of ["/", "/register", "/login", "/import-keyfile", "/reset"]) app.get(p, page);
    app.get("/register.js", (c) => {
      c.header("content-type", "application/javascript; charset=utf-8");
      return c.body(this.script);
    });
    // The node's /our answers once it has booted; until then the pages wait on it.
    app.get("/our", (c) => c.text("", 404));

    app.get("/api/info", (c) =>
      c.json({
        chain_id: this.o.chainId,
        chain_name: chainName(this.o.chainId),
        mode: this.booting ? "booting" : this.o.identity ? "login" : "register",
        name: this.o.identity?.name ?? null,
        ip: this.o.ip,
        ports: { tcp: this.o.tcpPort, ws: this.o.wsPort },
        networking_key: this.freshPublicKey,
        min_password: MIN_PASSWORD,
      }));

    app.get("/api/routers", async (c) => {
      const candidates = await routerCandidates(this.o.chain, this.o.indexed());
      return c.json({ candidates, picked: pickRouters(candidates) });
    });

    app.post("/api/name", async (c) => {
      const b = await body(c);
      const s = await nameStatus(this.o.chain, str(b.name, "name"));
      return c.json({ ...s, available: s.problem === null });
    });

    app.post("/api/tx", async (c) => {
      const b = await body(c);
      const owner = address(b.owner);
      const s = await nameStatus(this.o.chain, str(b.name, "name"));
      const kind = b.kind;
      if (kind === "reset") return c.json(resetTx(s, owner, this.publish(s.name, b)));
      if (s.problem) throw new HttpError(409, s.problem);
      if (kind === "commit") {
        if (!s.commit) throw new HttpError(400, `${s.parent}'s minter takes no commit: mint at once`);
        return c.json(commitTx(s, owner));
      }
      if (kind === "mint") return c.json(mintTx(s, owner, this.publish(s.name, b)));
      throw new HttpError(400, `kind is commit, mint or reset, not ${JSON.stringify(kind)}`);
    });

    // Whether the mint would go through now (a commit old enough), as the wallet's account.
    app.post("/api/simulate", async (c) => {
      const b = await body(c);
      const owner = address(b.owner);
      const s = await nameStatus(this.o.chain, str(b.name, "name"));
      const error = await simulate(this.o.chain, owner, mintTx(s, owner, this.publish(s.name, b)));
      return c.json({ ok: error === null, error });
    });

    app.post("/api/receipt", async (c) => {
      const b = await body(c);
      if (typeof b.hash !== "string" || !isHex(b.hash) || b.hash.length !== 66) {
        throw new HttpError(400, "hash is a transaction hash (0x and 64 hex digits)");
      }
      return c.json(await receipt(this.o.chain, b.hash as Hex));
    });

    // The typed data the wallet signs to boot (its password hash is the reference's argon2id).
    app.post("/api/boot-message", async (c) => {
      const b = await body(c);
      const name = (await nameStatus(this.o.chain, str(b.name, "name"))).name;
      const password = this.password(b.password);
      const message = {
        username: name,
        password_hash: passwordHash(name, password),
        timestamp: Date.now(),
        direct: b.direct === true,
        reset: b.reset === true,
        chain_id: this.o.chainId,
      };
      return c.json(bootTypedData(message));
    });

    app.post("/api/boot", async (c) => {
      const b = await body(c);
      this.notBooting();
      const s = await nameStatus(this.o.chain, str(b.name, "name"));
      const password = this.password(b.password);
      const message = {
        username: s.name,
        password_hash: passwordHash(s.name, password),
        timestamp: Number(b.timestamp),
        direct: b.direct === true,
        reset: b.reset === true,
        chain_id: this.o.chainId,
      };
      const stale = staleness(message.timestamp);
      if (stale) throw new HttpError(401, `the boot message is refused: ${stale}`);
      if (typeof b.signature !== "string" || !isHex(b.signature)) throw new HttpError(400, "signature is hex");
      const signer = await bootSigner(message, b.signature as Hex);
      if (!s.owner) throw new HttpError(409, `${s.name} is not on this chain yet: mint it first`);
      if (!signer || signer.toLowerCase() !== s.owner.toLowerCase()) {
        throw new HttpError(
          401,
          `the boot message is signed by ${signer ?? "nobody"}, not by ${s.name}'s owner ${s.owner}`,
        );
      }
      const routing = this.publish(s.name, b);
      await this.keyOnChain(s.name, this.freshPublicKey);
      const identity: RealIdentity = {
        name: s.name,
        chain_id: this.o.chainId,
        routing: routing.routers.length
          ? { routers: routing.routers }
          : { direct: { ip: routing.ips[0], tcp: this.o.tcpPort, ws: this.o.wsPort } },
      };
      const keys = await saveKeys(this.o.home, password, this.fresh);
      const keyfile = await encodeKeyfile(s.name, routing.routers, this.fresh, password);
      return await this.accept(c, { identity, keys, password }, keyfile, true);
    });

    app.post("/api/login", async (c) => {
      const b = await body(c);
      this.notBooting();
      const id = this.o.identity;
      if (!id) throw new HttpError(404, "this home holds no node yet: register a name or import a keyfile");
      const password = str(b.password, "password");
      const judged = await this.throttle.judge("setup", false, async () => {
        const stored = JSON.parse(await Deno.readTextFile(`${this.o.home}/keys.json`));
        try {
          return await unlockKeys(stored, password, id.name);
        } catch (e) {
          if (e instanceof WrongPassword) return null;
          throw e;
        }
      });
      if ("refused" in judged) {
        throw new HttpError(429, `too many wrong passwords: try again in ${Math.ceil(judged.refused / 1000)} s`);
      }
      if ("wrong" in judged) throw new HttpError(401, "wrong password");
      const keys = judged.right;
      await this.keyOnChain(id.name, `0x${toHex(keys.publicKey)}`);
      return await this.accept(c, { identity: id, keys, password }, null, false);
    });

    app.post("/api/import-keyfile", async (c) => {
      const b = await body(c);
      this.notBooting();
      const password = this.password(b.password);
      const name = typeof b.name === "string" && b.name.trim() ? (await nameStatus(this.o.chain, b.name)).name : "";
      let imported;
      try {
        imported = await decodeKeyfile(str(b.keyfile, "keyfile"), name, password);
      } catch (e) {
        if (e instanceof WrongPassword) throw new HttpError(401, e.message);
        throw e;
      }
      const onChain = await this.keyOnChain(imported.name, `0x${toHex(imported.keys.publicKey)}`);
      // As the reference's assign_routing: a keyfile with routers is indirect; else the chain says where it is.
      let routing: RealIdentity["routing"];
      if (imported.routers.length) routing = { routers: imported.routers };
      else if (onChain.ip && (onChain.tcp || onChain.ws)) {
        routing = { direct: { ip: onChain.ip, tcp: onChain.tcp ?? 0, ws: onChain.ws ?? 0 } };
      } else {
        throw new HttpError(
          409,
          `${imported.name}'s notes on chain name neither routers nor an ip and port: reset its networking notes`,
        );
      }
      const identity: RealIdentity = { name: imported.name, chain_id: this.o.chainId, routing };
      const keys = await saveKeys(this.o.home, password, imported.keys.secretKey);
      return await this.accept(c, { identity, keys, password }, null, true);
    });

    app.all(
      "*",
      (c) => c.json({ error: `nothing at ${c.env.target.pathname}: open http://localhost:${this.port}/` }, 404),
    );

    app.onError((e, c) => {
      if (e instanceof ConnEnded) throw e;
      if (e instanceof ParseError || e instanceof SyntaxError) return c.json({ error: e.message }, 400);
      if (e instanceof HttpError) return errorResponse(e);
      if (e instanceof Error && e.name === "Error" && /routers|router "/.test(e.message)) {
        return c.json({ error: e.message }, 400);
      }
      this.o.log(1, `register: ${(e as Error).stack ?? e}`);
      return c.json({ error: `the chain did not answer as expected: ${(e as Error).message.split("\n")[0]}` }, 502);
    });
    return app;
  }

  private notBooting() {
    if (this.booting) throw new HttpError(409, `the node is booting as ${this.booting.identity.name}`);
  }

  private password(v: unknown): string {
    const p = str(v, "password");
    if (p.length < MIN_PASSWORD) throw new HttpError(400, `a password is at least ${MIN_PASSWORD} characters`);
    return p;
  }

  /** What the notes publish: the fresh key, and routers (indirect) or the ip and the chosen ports (direct). */
  private publish(name: string, b: Record<string, unknown>): Publish {
    const direct = b.direct === true;
    const ip = direct ? str(b.ip ?? this.o.ip, "ip").trim() : "";
    if (direct && !/^[0-9a-fA-F.:]{2,45}$/.test(ip)) {
      throw new HttpError(400, `${ip.slice(0, 50)} is not an IP address`);
    }
    return {
      name,
      publicKey: ed25519.getPublicKey(this.fresh),
      ips: direct ? [ip] : [],
      ports: direct ? { tcp: this.o.tcpPort, ws: this.o.wsPort } : {},
      routers: direct ? [] : parseRouters(b.routers),
    };
  }

  /** The chain must hold `key` as the name's ~net-key (a node whose key it does not hold is unreachable). */
  private async keyOnChain(name: string, key: Hex) {
    // A public RPC may answer from a node a block behind the wallet's: ask again for a few seconds.
    for (let attempt = 0;; attempt++) {
      const notes = await notesOnChain(this.o.chain, name);
      if (notes.netKey?.toLowerCase() === key.toLowerCase()) return notes;
      if (attempt >= 4) {
        throw new HttpError(
          409,
          `${name}'s ~net-key on chain is ${notes.netKey ?? "missing"}, not this node's key ${key}: ` +
            `reset the name's networking notes, or import the keyfile that holds its key`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /**
   * Accepts the boot: logs the browser in (the node's login is set from the password now, so the booting node
   * opens the same), writes the identity, answers, and once the answer is out hands over to the node.
   */
  private async accept(c: C, b: Booting, keyfile: string | null, newPassword: boolean): Promise<Response> {
    this.booting = b;
    writeIdentity(this.o.home, b.identity);
    // A registration, reset or import sets the password anew: a login kept in the home from before goes.
    if (newPassword) await Deno.remove(`${this.o.home}/http/login.json`).catch(() => {});
    const login = await Login.open(this.o.home, b.identity.name, b.password);
    const cookie = await login.issue(c.env.target.hostname);
    const text = JSON.stringify({ name: b.identity.name, keyfile });
    let sent!: () => void;
    const written = new Promise<void>((r) => sent = r);
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(new TextEncoder().encode(text));
        ctl.close();
      },
      cancel() {
        sent();
      },
    });
    // The node takes the port once this answer has been read out to the socket (or the browser has gone).
    const reader = stream.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const r = await reader.read();
        if (r.done) {
          ctl.close();
          setTimeout(sent, 200);
        } else ctl.enqueue(r.value);
      },
    });
    written.then(() => this.resolveBoot(b));
    this.o.log(0, `register: booting as ${b.identity.name}`);
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "application/json",
        "set-cookie": `${login.cookieName}=${cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_SECONDS}`,
      },
    });
  }
}

async function body(c: C): Promise<Record<string, unknown>> {
  const bytes = await readLimited(c.req.raw, MAX_KEYFILE + 4096, "a registration request");
  checkJsonShape(bytes, 3, 1000);
  const v = JSON.parse(new TextDecoder().decode(bytes));
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new HttpError(400, "the body is a JSON object");
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string" || v.length === 0 || v.length > MAX_KEYFILE) throw new HttpError(400, `${what} is text`);
  return v;
}

function address(v: unknown): Hex {
  if (typeof v !== "string" || !isAddress(v, { strict: false })) throw new HttpError(400, "owner is an address (0x…)");
  return v as Hex;
}
