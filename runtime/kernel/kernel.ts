/**
 * The kernel: the only router. It stamps every message with its true source,
 * checks capabilities, tracks outstanding requests and their timeouts, and
 * starts, restarts and stops process workers.
 */
import type { FromProcess, SpawnArgs } from "../host/protocol.ts";
import {
  type Address,
  type Capability,
  capKey,
  formatAddress,
  type KernelMessage,
  type LazyLoadBlob,
  type Message,
  MESSAGING,
  NETWORK,
  nodeOf,
  type OnExit,
  packageOf,
  parseAddress,
  ParseError,
  parseProcessId,
  type ProcessId,
  processOf,
  randomId,
  ROOT,
  type SendError,
  type SendErrorKind,
  validateCapability,
  validateMessage,
  validateOnExit,
} from "../types.ts";
import type { KernelHandle, LineOrigin, RuntimeModule } from "./module.ts";
import { type PersistedProcess, ProcessMap } from "./process_map.ts";
import { Running } from "./running.ts";
import { Sandbox, type SandboxOptions } from "./sandbox.ts";
import { PendingRequests, requestBytes } from "./pending.ts";
import { LIMITS } from "../limits.ts";
import { assertNoCodeFromStrings } from "./code_check.ts";
import { CodeStore } from "./code_store.ts";
import { Deadlines } from "./deadlines.ts";
import { StateStore } from "./state_store.ts";

/** The worker checks sizes where a process sends; the kernel checks again, trusting no worker. */
function checkSizes(message: Message, blob: LazyLoadBlob | null) {
  const body = ("Request" in message ? message.Request : message.Response[0]).body;
  if (body.length > LIMITS.bodyBytes) throw new ParseError(`a message body of ${body.length} bytes is over the limit`);
  if ((blob?.bytes.length ?? 0) > LIMITS.blobBytes) {
    throw new ParseError(`a blob of ${blob!.bytes.length} bytes is over the limit`);
  }
}

export const KERNEL: ProcessId = "kernel:distro:sys";
export const NET: ProcessId = "net:distro:sys";

/** What `top` shows about a process beyond its persisted entry. */
export interface ProcessStatus {
  running: boolean;
  restarts: number;
  next_restart_ms: number | null;
  last_error: string | null;
  uptime_ms: number | null;
  messages_in: number;
  messages_out: number;
}

interface Lifecycle {
  restarts: number;
  backoffMs: number;
  restartTimer: ReturnType<typeof setTimeout> | null;
  restartAt: number | null;
  lastError: string | null;
  killed: boolean;
  /** Messages that arrived while the process waited to restart. */
  queued: { km: KernelMessage; context: Uint8Array | null }[];
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 60_000;
/** A run at least this long resets the back-off: the process is healthy. */
const HEALTHY_RUN_MS = 30_000;
const MAX_QUEUED = 1024;

export interface KernelOptions {
  our: string;
  home: string;
  print: (verbosity: number, text: string, origin?: LineOrigin) => void;
  /** The heap limit of each process, in MiB. */
  processHeapMb?: number;
  /** Where processes run: a child OS process per package (default), or threads of the node. */
  sandbox?: Pick<SandboxOptions, "mode" | "inNode">;
}

export class Kernel implements KernelHandle {
  readonly our: string;
  readonly home: string;
  readonly processes: ProcessMap;
  readonly code: CodeStore;
  readonly state: StateStore;
  private modules = new Map<ProcessId, RuntimeModule>();
  private running = new Map<ProcessId, Running>();
  private life = new Map<ProcessId, Lifecycle>();
  private pending = new PendingRequests();
  /** Processes the terminal app started as scripts (they may print plainly). */
  readonly scripts = new Set<ProcessId>();
  private deadlines = new Deadlines((id) => this.fail(id, "Timeout"));
  private sandbox: Sandbox;
  private stopping = false;
  readonly print: (verbosity: number, text: string, origin?: LineOrigin) => void;

  constructor(opts: KernelOptions) {
    assertNoCodeFromStrings();
    this.our = opts.our;
    this.home = opts.home;
    this.print = opts.print;
    Deno.mkdirSync(`${opts.home}/kernel`, { recursive: true });
    this.processes = new ProcessMap(`${opts.home}/kernel/process_map.json`);
    this.code = new CodeStore(`${opts.home}/vfs`);
    this.state = new StateStore(`${opts.home}/state`);
    this.sandbox = new Sandbox({ ...opts.sandbox, heapMb: opts.processHeapMb, log: (t) => this.print(0, t) });
  }

  /** The OS process ids of the process hosts, by package. */
  hostPids(): Map<string, number> {
    return this.sandbox.hostPids();
  }

  /** Resolves once spare process hosts have started: a package installed next starts at once. */
  hostsReady(): Promise<void> {
    return this.sandbox.ready();
  }

  addr(process: ProcessId): Address {
    return formatAddress(this.our, process);
  }

  registerModule(m: RuntimeModule) {
    this.modules.set(m.process, m);
    this.decisions.clear();
  }

  isModule(id: ProcessId): boolean {
    return this.modules.has(id);
  }

  // ------------------------------------------------------------ capabilities

  private decisions = new Map<string, boolean>();
  private decisionsVersion = -1;

  /** Whether `source` may send a request to `target`; cached until capabilities change. */
  private mayMessage(source: ProcessId, target: Address): boolean {
    if (this.decisionsVersion !== this.processes.version || this.decisions.size > 50_000) {
      this.decisions.clear();
      this.decisionsVersion = this.processes.version;
    }
    const key = `${source}\n${target}`;
    let ok = this.decisions.get(key);
    if (ok === undefined) this.decisions.set(key, ok = this.decide(source, target));
    return ok;
  }

  private decide(source: ProcessId, target: Address): boolean {
    if (this.modules.has(source)) return true;
    const rootKey = capKey({ issuer: this.addr(KERNEL), params: ROOT });
    if (this.processes.hasCapKey(source, rootKey)) return true;
    if (nodeOf(target) !== this.our) {
      return this.processes.hasCap(source, { issuer: this.addr(KERNEL), params: NETWORK });
    }
    const tp = processOf(target);
    const mod = this.modules.get(tp);
    if (mod?.public) return true;
    if (!mod && this.processes.get(tp)?.public) return true;
    return this.processes.hasCap(source, { issuer: target, params: MESSAGING });
  }

  /** Keeps the attached capabilities `source` really holds or issues; reports the rest. */
  private genuineCaps(source: ProcessId, caps: Capability[]): Capability[] {
    if (this.modules.has(source) || caps.length === 0) return caps;
    const self = this.addr(source);
    const out: Capability[] = [];
    for (const c of caps) {
      if (c.issuer === self || this.processes.hasCap(source, c)) out.push(c);
      else {
        const what = `${c.issuer} ${c.params}`;
        this.print(0, `kernel: dropped forged capability ${what} attached by ${source}`, {
          source,
          kind: "forged cap",
        });
      }
    }
    return out;
  }

  hasCap(process: ProcessId, cap: Capability): boolean {
    if (this.modules.has(process)) return true;
    return this.processes.hasCap(process, cap) ||
      this.processes.hasCap(process, { issuer: this.addr(KERNEL), params: ROOT });
  }

  grantCaps(process: ProcessId, caps: Capability[]) {
    this.processes.grant(process, caps);
  }

  get capsVersion(): number {
    return this.processes.version;
  }

  // ------------------------------------------------------------ routing

  /** Trusted send for runtime modules. */
  send(source: ProcessId, msg: {
    id?: number;
    target: Address;
    message: Message;
    blob?: LazyLoadBlob | null;
    rsvp?: Address | null;
    context?: Uint8Array | null;
  }): number {
    const id = msg.id ?? randomId();
    const km: KernelMessage = {
      id,
      source: this.addr(source),
      target: msg.target,
      rsvp: msg.rsvp ??
        ("Request" in msg.message && msg.message.Request.expects_response !== null ? this.addr(source) : null),
      message: msg.message,
      lazy_load_blob: msg.blob ?? null,
    };
    if ("Request" in km.message && km.message.Request.expects_response !== null) {
      this.expect(source, km, msg.context ?? null);
    }
    this.route(km);
    return id;
  }

  respond(request: KernelMessage, body: Uint8Array, blob: LazyLoadBlob | null = null) {
    const isReq = "Request" in request.message;
    if (!isReq) return;
    this.route({
      id: request.id,
      source: request.target,
      target: request.rsvp ?? request.source,
      rsvp: null,
      message: { Response: [{ inherit: false, body, metadata: null, capabilities: [] }, null] },
      lazy_load_blob: blob,
    });
  }

  private expect(requester: ProcessId, km: KernelMessage, context: Uint8Array | null) {
    const seconds = (km.message as { Request: { expects_response: number } }).Request.expects_response;
    this.deadlines.set(km.id, seconds * 1000);
    this.pending.set(km.id, { requester, context, km });
  }

  /** Returns the request `id` to its requester as a SendError. */
  fail(id: number, kind: SendErrorKind) {
    const p = this.pending.take(id);
    if (!p) return;
    this.deadlines.clear(id);
    const error: SendError = {
      kind,
      target: p.km.target,
      message: p.km.message,
      lazy_load_blob: p.km.lazy_load_blob,
    };
    const mod = this.modules.get(p.requester);
    if (mod) {
      mod.handleError?.(id, error, p.context);
      return;
    }
    const r = this.running.get(p.requester);
    if (r) r.post({ t: "err", id, error, context: p.context });
  }

  /** Delivers a message whose source is already true. */
  route(km: KernelMessage) {
    if (nodeOf(km.target) !== this.our) {
      const net = this.modules.get(NET);
      if (net) net.handle(km, null);
      else this.fail(km.id, "Offline");
      return;
    }
    const target = processOf(km.target);
    let context: Uint8Array | null = null;
    if ("Response" in km.message) {
      const p = this.pending.get(km.id);
      if (!p || p.requester !== target) {
        const line = `kernel: dropped response ${km.id} from ${km.source}: nobody awaits it`;
        this.print(2, line, { source: this.culprit(km.source), kind: "unawaited response" });
        return;
      }
      this.pending.take(km.id);
      this.deadlines.clear(km.id);
      context = p.context;
    }
    const mod = this.modules.get(target);
    if (mod) {
      try {
        mod.handle(km, context);
      } catch (e) {
        const line = `kernel: ${target} failed on a message from ${km.source}: ${(e as Error).message}`;
        this.print(0, line, { source: this.culprit(km.source), kind: `${target} failed` });
        this.fail(km.id, "Offline");
      }
      return;
    }
    const r = this.running.get(target);
    if (r) {
      if (r.full) {
        this.print(0, `kernel: ${target} has ${r.unread} messages it has not taken: refused one from ${km.source}`, {
          source: target,
          kind: "inbox full",
        });
        this.fail(km.id, "Offline");
        return;
      }
      const inner = "Request" in km.message ? km.message.Request : km.message.Response[0];
      this.noteReceivedCaps(target, inner.capabilities);
      r.deliver(km, context);
      return;
    }
    const life = this.life.get(target);
    if (life?.restartTimer && life.queued.length < MAX_QUEUED) {
      life.queued.push({ km, context });
      return;
    }
    const line = `kernel: ${km.source} sent to ${km.target}, which is not running`;
    this.print(1, line, { source: this.culprit(km.source), kind: "not running" });
    this.fail(km.id, "Offline");
  }

  /**
   * Whom a log line about `addr` is charged to (see the console's flood
   * limits): a local process, or a whole remote node, whose process ids are
   * only claims it could vary at will.
   */
  private culprit(addr: Address): string {
    return nodeOf(addr) === this.our ? processOf(addr) : nodeOf(addr);
  }

  /**
   * A message from another node. Only its node is authenticated; its process
   * id is a claim. Requests reach processes that hold the networking
   * capability, and of the runtime modules only net:distro:sys, whose own
   * protocol (hello, ConnectionRequest) is spoken between nodes: nothing
   * remote ever commands the kernel, a timer or storage (a module's
   * response reaches it only if it awaits one: route checks). Only
   * capabilities the sending node itself issued come with it. A refused
   * request gets no answer, as from a process that takes nothing from the
   * network: the sender sees Timeout.
   */
  deliverRemote(km: KernelMessage) {
    if (nodeOf(km.target) !== this.our) return;
    const target = processOf(km.target);
    const source = nodeOf(km.source);
    const inner = "Request" in km.message ? km.message.Request : km.message.Response[0];
    inner.capabilities = inner.capabilities.filter((c) => nodeOf(c.issuer) === source);
    if ("Request" in km.message && this.modules.has(target) && target !== NET) {
      const why = "runtime modules take no requests from other nodes";
      this.print(0, `kernel: refused a request from ${km.source} to ${target}: ${why}`, { source, kind: "to module" });
      return;
    }
    if (!this.modules.has(target) && this.processes.has(target)) {
      const netCap = { issuer: this.addr(KERNEL), params: NETWORK };
      if (
        !this.processes.hasCap(target, netCap) &&
        !this.processes.hasCap(target, { issuer: this.addr(KERNEL), params: ROOT })
      ) {
        const why = `${target} does not take messages from the network`;
        this.print(1, `kernel: dropped a message from ${km.source}: ${why}`, { source, kind: "to local process" });
        return;
      }
    }
    this.route(km);
  }

  /** A batch of system calls from a process worker. */
  private fromProcess(id: ProcessId, batch: FromProcess[]) {
    const r = this.running.get(id);
    if (!r) return;
    for (const m of batch) {
      try {
        this.syscall(id, r, m);
      } catch (e) {
        const why = e instanceof ParseError ? e.message : (e as Error).stack ?? String(e);
        this.print(0, `kernel: refused ${m?.t ?? "a call"} from ${id}: ${why}`, { source: id, kind: "refused call" });
        if (m?.t === "call") r.post({ t: "reply", call: m.call, ok: false, value: why });
      }
      if (!this.running.has(id)) return;
    }
  }

  private syscall(id: ProcessId, r: Running, m: FromProcess) {
    switch (m?.t) {
      case "ready":
        return;
      case "send":
        r.sent++;
        return this.sendFromProcess(id, r, m);
      case "print":
        // Scripts the terminal started, and the terminal's own package, speak to the
        // user plainly; every other process is named on each line, so none can pass
        // as another (or as the kernel). The console escapes control characters in all.
        return this.print(
          Number(m.verbosity) || 0,
          String(m.text),
          id.endsWith(":terminal:sys") || (m.plain && this.scripts.has(id))
            ? { source: id, plain: true }
            : { source: id, label: id },
        );
      case "set_state": {
        if ((m.bytes?.length ?? 0) > LIMITS.blobBytes) {
          throw new ParseError(`state of ${m.bytes!.length} bytes is over the limit`);
        }
        // The answer waits for the write and its fsync: acknowledged state survives kill -9.
        const written = this.state.set(id, m.bytes ? new Uint8Array(m.bytes) : null);
        const call = m.call;
        return void written.then(
          () => typeof call === "number" && this.running.get(id)?.post({ t: "reply", call, ok: true, value: null }),
          (e) => {
            this.print(0, `kernel: could not save the state of ${id}: ${(e as Error).message}`);
            if (typeof call === "number") {
              this.running.get(id)?.post({ t: "reply", call, ok: false, value: (e as Error).message });
            }
          },
        );
      }
      case "set_on_exit":
        return this.processes.update(id, { on_exit: validateOnExit(m.on_exit) });
      case "call":
        return void this.call(id, m.name, m.args).then(
          (value) => this.running.get(id)?.post({ t: "reply", call: m.call, ok: true, value }),
          (e) => this.running.get(id)?.post({ t: "reply", call: m.call, ok: false, value: (e as Error).message }),
        );
      case "exit":
        return this.exited(id, Boolean(m.ok), m.error ? String(m.error) : null);
      case "took":
        return r.took(Number(m.n) || 0);
      default:
        throw new ParseError(`unknown system call ${JSON.stringify((m as { t?: unknown })?.t)}`);
    }
  }

  private sendFromProcess(id: ProcessId, r: Running, m: Extract<FromProcess, { t: "send" }>) {
    const message = validateMessage(m.message);
    const blob = m.blob ?? null;
    checkSizes(message, blob);
    const source = this.addr(id);
    if ("Response" in message) {
      const prompt = r.recall(m.prompt);
      if (!prompt?.isRequest) throw new ParseError("Response.send() with no request to answer");
      const resp = message.Response[0];
      resp.capabilities = this.genuineCaps(id, resp.capabilities);
      const inherited = resp.inherit && !blob ? r.recall(m.blobFrom)?.blob ?? null : null;
      r.answered(m.prompt!);
      this.route({
        id: m.prompt!,
        source,
        target: prompt.rsvp ?? prompt.source,
        rsvp: null,
        message: { Response: [resp, null] },
        lazy_load_blob: blob ?? inherited,
      });
      return;
    }
    const req = message.Request;
    const targetAddr = this.checkedTarget(m.target);
    const target = { node: nodeOf(targetAddr), process: processOf(targetAddr) };
    req.capabilities = this.genuineCaps(id, req.capabilities);
    let msgId = Number.isSafeInteger(m.id) && m.id > 0 ? m.id : randomId();
    let rsvp: Address | null = null;
    const prompt = req.inherit ? r.recall(m.prompt) : undefined;
    if (req.expects_response !== null) {
      if (this.pending.has(msgId)) msgId = randomId();
      rsvp = source;
    } else if (prompt) {
      // An inheriting request that expects nothing continues its parent's lineage:
      // the response goes to whoever awaits the parent.
      msgId = m.prompt!;
      rsvp = prompt.isRequest && prompt.expectsResponse ? prompt.rsvp ?? prompt.source : null;
    }
    const inherited = req.inherit && !blob ? r.recall(m.blobFrom)?.blob ?? null : null;
    const km: KernelMessage = {
      id: msgId,
      source,
      target: targetAddr,
      rsvp,
      message: { Request: req },
      lazy_load_blob: blob ?? inherited,
    };
    if (req.expects_response !== null) {
      const refused = this.pending.refusal(id, requestBytes(km));
      if (refused) {
        this.print(0, `kernel: ${refused}`, { source: id, kind: "pending limit" });
        r.post({
          t: "err",
          id: msgId,
          error: { kind: "Offline", target: targetAddr, message: km.message, lazy_load_blob: null },
          context: m.context ?? null,
        });
        return;
      }
      this.expect(id, km, m.context ?? null);
    }
    if (!this.mayMessage(id, targetAddr)) {
      this.print(
        0,
        target.node === this.our
          ? `kernel: ${id} may not message ${target.process}: add "${target.process}" to request_capabilities in its manifest, or make the target public`
          : `kernel: ${id} may not use the network: set "request_networking": true in its manifest`,
        { source: id, kind: "refused send" },
      );
      this.fail(msgId, "Offline");
      return;
    }
    this.route(km);
  }

  private targets = new Map<string, Address>();

  /** A target address from a process, validated once and remembered. */
  private checkedTarget(raw: string): Address {
    let a = this.targets.get(raw);
    if (a === undefined) {
      const t = parseAddress(raw, this.our);
      a = formatAddress(t.node, t.process);
      if (this.targets.size > 10_000) this.targets.clear();
      this.targets.set(raw, a);
    }
    return a;
  }

  // ------------------------------------------------------------ system calls with answers

  private async call(id: ProcessId, name: string, args: unknown): Promise<unknown> {
    switch (name) {
      case "our_capabilities":
        return this.processes.capabilities(id);
      case "save_capabilities": {
        // Only capabilities that arrived on a message are genuine; the kernel
        // filtered those on the way in, so what the process holds or was sent
        // by the issuer is saved, anything else refused.
        const caps = (args as unknown[]).map(validateCapability);
        this.processes.grant(id, caps.filter((c) => this.wasSent(id, c)));
        return null;
      }
      case "drop_capabilities":
        this.processes.drop(id, (args as unknown[]).map(validateCapability));
        return null;
      case "spawn":
        return await this.spawn(id, args as SpawnArgs);
      default:
        throw new ParseError(`unknown call ${JSON.stringify(name)}`);
    }
  }

  /** Capabilities that reached a process on a message (checked when sent). */
  private received = new Map<ProcessId, Set<string>>();

  private wasSent(id: ProcessId, c: Capability): boolean {
    return this.received.get(id)?.has(capKey(c)) ?? false;
  }

  noteReceivedCaps(id: ProcessId, caps: Capability[]) {
    if (!caps.length) return;
    let s = this.received.get(id);
    if (!s) this.received.set(id, s = new Set());
    for (const c of caps) s.add(capKey(c));
  }

  // ------------------------------------------------------------ process lifecycle

  /** Adds a process to the map (InitializeProcess); it does not run yet. */
  initializeProcess(id: ProcessId, p: PersistedProcess, code?: Uint8Array) {
    parseProcessId(id);
    if (this.running.has(id)) this.stop(id, true);
    if (code) this.code.put(p.wasm_bytes_handle, code);
    else this.code.invalidate(p.wasm_bytes_handle);
    this.processes.set(id, p);
  }

  /** Starts a process that is in the map (RunProcess). */
  runProcess(id: ProcessId): void {
    const p = this.processes.get(id);
    if (!p) throw new ParseError(`no process ${id} in the process map`);
    if (this.running.has(id)) return;
    const code = this.code.get(p.wasm_bytes_handle);
    const life = this.lifeOf(id);
    life.killed = false;
    if (life.restartTimer) clearTimeout(life.restartTimer);
    life.restartTimer = null;
    life.restartAt = null;
    // A thread that ends without saying so (its heap limit, a fatal error) has exited.
    const thread = this.sandbox.start(id, (error) => {
      if (this.running.get(id) === r) {
        this.exited(id, false, error ?? "its thread ended without an exit: treated as a crash");
      }
    });
    const r = new Running(id, thread, (batch) => this.fromProcess(id, batch));
    this.running.set(id, r);
    r.post({ t: "init", our: this.addr(id), code, state: this.state.get(id), capabilities: p.capabilities });
    for (const q of life.queued.splice(0)) r.deliver(q.km, q.context);
  }

  private lifeOf(id: ProcessId): Lifecycle {
    let l = this.life.get(id);
    if (!l) {
      l = {
        restarts: 0,
        backoffMs: 0,
        restartTimer: null,
        restartAt: null,
        lastError: null,
        killed: false,
        queued: [],
      };
      this.life.set(id, l);
    }
    return l;
  }

  /** Terminates a process's worker; requests it awaited come back Offline. */
  private stop(id: ProcessId, killed: boolean) {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    r.terminate();
    this.lifeOf(id).killed = killed;
    this.received.delete(id);
    for (const m of this.modules.values()) m.processExited?.(id);
    const self = this.addr(id);
    for (const [pid, p] of this.pending.entries()) {
      if (p.requester === id) {
        this.deadlines.clear(pid);
        this.pending.take(pid);
      } else if (p.km.target === self) {
        // Whoever awaits an answer from a process that died hears it now, not at the timeout.
        this.fail(pid, "Offline");
      }
    }
  }

  /** KillProcess: stops it and removes it from the map; Restart is not honoured. */
  killProcess(id: ProcessId): boolean {
    const known = this.processes.has(id) || this.running.has(id);
    this.stop(id, true);
    const l = this.life.get(id);
    if (l?.restartTimer) clearTimeout(l.restartTimer);
    this.life.delete(id);
    this.processes.remove(id);
    this.scripts.delete(id);
    return known;
  }

  private exited(id: ProcessId, ok: boolean, error: string | null) {
    const r = this.running.get(id);
    if (!r) return;
    const ranMs = Date.now() - r.startedAt;
    const p = this.processes.get(id);
    this.stop(id, false);
    const life = this.lifeOf(id);
    if (!ok) {
      life.lastError = error;
      this.print(0, `kernel: ${id} crashed: ${error}`, { source: id, kind: "crash" });
    } else this.print(2, `kernel: ${id} exited`);
    if (this.stopping || !p) return;
    const onExit: OnExit = p.on_exit;
    if (onExit === "Restart") {
      life.backoffMs = ranMs >= HEALTHY_RUN_MS
        ? 0
        : Math.min(Math.max(life.backoffMs * 2, MIN_BACKOFF_MS), MAX_BACKOFF_MS);
      life.restarts++;
      life.restartAt = Date.now() + life.backoffMs;
      if (!ok) this.print(0, `kernel: restarting ${id} in ${life.backoffMs} ms (restart ${life.restarts})`);
      life.restartTimer = setTimeout(() => {
        life.restartTimer = null;
        if (this.processes.has(id) && !this.stopping) {
          try {
            this.runProcess(id);
          } catch (e) {
            this.print(0, `kernel: could not restart ${id}: ${(e as Error).message}`);
          }
        }
      }, life.backoffMs);
      return;
    }
    if (typeof onExit === "object") {
      for (const [target, request, blob] of onExit.Requests) {
        const req = { ...request, capabilities: this.genuineCaps(id, request.capabilities) };
        if (!this.mayMessage(id, target)) continue;
        const tp = processOf(target);
        if (nodeOf(target) === this.our && !this.running.has(tp) && !this.modules.has(tp)) continue;
        this.route({
          id: randomId(),
          source: this.addr(id),
          target,
          rsvp: null,
          message: { Request: req },
          lazy_load_blob: blob,
        });
      }
    }
    this.life.delete(id);
    this.processes.remove(id);
    this.scripts.delete(id);
  }

  // ------------------------------------------------------------ spawn

  private spawn(parent: ProcessId, a: SpawnArgs): ProcessId {
    const pkg = packageOf(parent);
    const name = a.name ?? String(randomId());
    const child = `${name}:${pkg}`;
    parseProcessId(child);
    if (this.processes.has(child)) throw new ParseError(`NameTaken: ${child} already exists`);
    const siblings = this.processes.ids().filter((p) => packageOf(p) === pkg).length;
    if (siblings >= LIMITS.processesPerPackage) {
      throw new ParseError(
        `TooManyProcesses: ${pkg} already runs ${siblings} processes: let some children exit before spawning more`,
      );
    }
    const handle = this.code.normalize(a.wasm_path);
    if (!handle.startsWith(`${pkg}/`)) {
      throw new ParseError(`NoFileAtPath: ${a.wasm_path} is outside the ${pkg} package`);
    }
    if (!this.code.exists(handle)) throw new ParseError(`NoFileAtPath: ${a.wasm_path}`);
    const caps = (a.request_capabilities ?? []).map(validateCapability).filter((c) =>
      this.processes.hasCap(parent, c) || c.issuer === this.addr(parent)
    );
    const childAddr = this.addr(child);
    // The parent can always message its child, and the child its parent.
    caps.push({ issuer: this.addr(parent), params: MESSAGING });
    this.initializeProcess(child, {
      wasm_bytes_handle: handle,
      wit_version: null,
      on_exit: validateOnExit(a.on_exit ?? "None"),
      capabilities: caps,
      public: Boolean(a.public),
    });
    this.processes.grant(parent, [{ issuer: childAddr, params: MESSAGING }]);
    for (const g of a.grant_capabilities ?? []) {
      parseProcessId(g);
      this.processes.grant(g, [{ issuer: childAddr, params: MESSAGING }]);
    }
    this.runProcess(child);
    return child;
  }

  // ------------------------------------------------------------ inspection and shutdown

  status(id: ProcessId): ProcessStatus {
    const r = this.running.get(id);
    const l = this.life.get(id);
    return {
      running: Boolean(r),
      restarts: l?.restarts ?? 0,
      next_restart_ms: l?.restartAt ? Math.max(0, l.restartAt - Date.now()) : null,
      last_error: l?.lastError ?? null,
      uptime_ms: r ? Date.now() - r.startedAt : null,
      messages_in: r?.delivered ?? 0,
      messages_out: r?.sent ?? 0,
    };
  }

  modulesList(): ProcessId[] {
    return [...this.modules.keys()];
  }

  /** Boots every persisted process marked Restart; others are dropped from the map. */
  bootPersisted() {
    for (const id of this.processes.ids()) {
      const p = this.processes.get(id)!;
      if (p.on_exit !== "Restart") {
        this.processes.remove(id);
        this.scripts.delete(id);
        continue;
      }
      try {
        this.runProcess(id);
      } catch (e) {
        this.print(0, `kernel: could not start ${id}: ${(e as Error).message}`);
      }
    }
  }

  async shutdown() {
    this.stopping = true;
    for (const id of [...this.running.keys()]) this.stop(id, false);
    for (const l of this.life.values()) if (l.restartTimer) clearTimeout(l.restartTimer);
    this.deadlines.stop();
    this.pending.clear();
    await this.sandbox.close();
    for (const m of this.modules.values()) await m.shutdown?.();
    await this.processes.flush();
    await this.state.flush();
  }
}
