/**
 * http-server:distro:sys: the node's web side. Processes bind paths with the
 * book's HttpServerAction (actions.ts); browsers and API clients reach them
 * through the node's HTTP port, which also serves login, the home page,
 * /our and /our.js, and the CLI's local endpoints (rpc.ts).
 *
 * Requests are read by the node's own HTTP/1 reader on its guarded accept
 * loop (connection.ts: caps, deadlines and eviction hold from the first
 * byte, and no accept error ends the node, which Deno.serve cannot promise);
 * bound paths are answered straight from the connection (bound.ts), the
 * rest is routed by a Hono app (app.ts).
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import type { KernelMessage, ProcessId } from "../../runtime/types.ts";
import { HTTP_SERVER } from "../../runtime/api/processes.ts";
import { guardedListen, type GuardedListener, type ListenerLimits } from "../../runtime/sockets/listener.ts";
import { serveConnection } from "./connection.ts";
import { BindingTable } from "./bindings.ts";
import { Channels } from "./channels.ts";
import { Login, LoginThrottle } from "./auth.ts";
import { HomepageModule } from "./homepage.ts";
import { type DevPublisher, type Installer, MAX_BODY } from "./rpc.ts";
import { makeApp } from "./app.ts";
import { jsonAnswer, serveBound } from "./bound.ts";
import { isOwnHostname, nodeOrigin } from "./origins.ts";
import type { ConnEnv } from "./connection.ts";
import { handleAction } from "./actions.ts";

export { MAX_BODY };
export type { Installer };

/**
 * The HTTP port serves the local CLI, browsers and API clients; WebSockets
 * hold proven slots. Pending connections must send a whole request within
 * the deadline.
 */
export const HTTP_LIMITS: ListenerLimits = {
  label: "http",
  maxConnections: 256,
  maxPending: 64,
  pendingTimeoutMs: 30_000,
};

export interface HttpServerOptions {
  /** The node's password (login); the one given at first boot is kept. */
  password?: string;
}

/** A request for a name that is not this node's (origins.ts isOwnHostname): none of it is served. */
function foreignHost(env: ConnEnv) {
  const { hostname, host } = env.target;
  const error = `Host ${hostname} is not this node (DNS rebinding?): open ${nodeOrigin(host)}/`;
  return Promise.resolve(jsonAnswer(421, { error }));
}

export class HttpServerModule implements RuntimeModule {
  readonly process = HTTP_SERVER;
  readonly public = false;
  readonly homepage: HomepageModule;
  readonly bindings = new BindingTable();
  readonly wsBindings = new BindingTable();
  readonly channels: Channels;
  readonly throttle = new LoginThrottle();
  login: Login | null = null;
  /** How long a process has to answer an HTTP request before the client gets 504. */
  timeoutSeconds = 20;
  /** Set by boot on the dev chain: /rpc:distro:sys/publish writes this node's App Store notes. */
  devPublisher: DevPublisher | null = null;
  private listener: GuardedListener | null = null;
  port = 0;

  constructor(readonly k: KernelHandle, readonly install: Installer, private opts: HttpServerOptions = {}) {
    this.homepage = new HomepageModule(k);
    this.channels = new Channels(k);
  }

  async listen(port: number, hostname = "127.0.0.1"): Promise<number> {
    this.login = await Login.open(this.k.home, this.k.our, this.opts.password ?? "secret");
    const app = makeApp(this);
    this.listener = guardedListen(
      port,
      HTTP_LIMITS,
      (slot) =>
        serveConnection(
          slot,
          {
            direct: (env) => isOwnHostname(env.target.hostname) ? serveBound(this, env) : foreignHost(env),
            fetch: app.fetch,
            log: (v, t) => this.k.print(v, t),
          },
          HTTP_LIMITS.pendingTimeoutMs,
        ),
      (v, t) => this.k.print(v, t),
      hostname,
    );
    this.port = this.listener.port;
    return this.port;
  }

  /** Connections refused or evicted so far (for tests and diagnostics). */
  get refused(): number {
    return this.listener?.refused ?? 0;
  }

  handle(km: KernelMessage) {
    handleAction(this, km);
  }

  /** A process stopped: its paths and channels go with it. */
  processExited(process: ProcessId) {
    this.bindings.removeProcess(process);
    this.wsBindings.removeProcess(process);
    this.channels.closeAll(process);
  }

  shutdown() {
    this.channels.shutdown();
    this.listener?.close();
  }
}
