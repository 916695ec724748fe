/**
 * The kernel: the only router. It stamps every message with its true source,
 * checks capabilities, tracks outstanding requests and their timeouts, and
 * starts, restarts and stops process workers. This file routes; its parts:
 * capabilities.ts (who may message whom), syscalls.ts (what a process's
 * worker asks), lifecycle.ts (start, stop, restart with back-off), spawn.ts,
 * and commands.ts (the book's Kernel API, kernel:distro:sys).
 */
import {
  type Address,
  type Capability,
  formatAddress,
  type KernelMessage,
  type LazyLoadBlob,
  type Message,
  type MessageId,
  NETWORK,
  nodeOf,
  parseProcessId,
  type ProcessId,
  processOf,
  randomId,
  ROOT,
  type SendError,
  type SendErrorKind,
} from "../types.ts";
import { KERNEL, NET } from "../api/processes.ts";
import type { ProcessStatus } from "../api/kernel.ts";
import type { KernelHandle, LineOrigin, RuntimeModule } from "./module.ts";
import { type PersistedProcess, ProcessMap } from "./process_map.ts";
import { Running } from "./running.ts";
import { Sandbox, type SandboxOptions } from "./sandbox.ts";
import { PendingRequests } from "./pending.ts";
import { CodeStore } from "./code_store.ts";
import { Deadlines } from "./deadlines.ts";
import { StateStore } from "./state_store.ts";
import { Capabilities } from "./capabilities.ts";
import { Syscalls } from "./syscalls.ts";
import { Lifecycles } from "./lifecycle.ts";
import { routedBlob } from "./heap_pacer.ts";
import { answered, unansweredRequest } from "./sole_blobs.ts";

export interface KernelOptions {
  our: string;
  home: string;
  print: (verbosity: number, text: string, origin?: LineOrigin) => void;
  /** The heap limit of each process, in MiB. */
  processHeapMb?: number;
  /** Where processes run: a child OS process per package (default), or threads of the node. */
  sandbox?: Pick<SandboxOptions, "mode" | "inNode" | "hosts">;
}

export class Kernel implements KernelHandle {
  readonly our: string;
  readonly home: string;
  readonly processes: ProcessMap;
  readonly code: CodeStore;
  readonly state: StateStore;
  /** Processes the terminal app started as scripts (they may print plainly). */
  readonly scripts = new Set<ProcessId>();
  readonly print: (verbosity: number, text: string, origin?: LineOrigin) => void;
  // The kernel's own parts (capabilities.ts, syscalls.ts, lifecycle.ts, spawn.ts) share what follows.
  readonly running = new Map<ProcessId, Running>();
  readonly pending = new PendingRequests();
  readonly deadlines = new Deadlines((id) => this.fail(id, "Timeout"));
  readonly sandbox: Sandbox;
  readonly caps = new Capabilities(this);
  readonly syscalls = new Syscalls(this);
  readonly lifecycle = new Lifecycles(this);
  /** Set once shutdown begins: nothing restarts after it. */
  stopping = false;
  private modules = new Map<ProcessId, RuntimeModule>();

  constructor(opts: KernelOptions) {
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

  /** Resolves once every live process host has started: the packages' processes are starting. */
  hostsReady(): Promise<void> {
    return this.sandbox.ready();
  }

  addr(process: ProcessId): Address {
    return formatAddress(this.our, process);
  }

  registerModule(m: RuntimeModule) {
    this.modules.set(m.process, m);
    this.caps.clearDecisions();
  }

  isModule(id: ProcessId): boolean {
    return this.modules.has(id);
  }

  module(id: ProcessId): RuntimeModule | undefined {
    return this.modules.get(id);
  }

  /** Tells every module that `id` stopped, so it lets go of what it holds for it. */
  processExited(id: ProcessId) {
    for (const m of this.modules.values()) m.processExited?.(id);
  }

  // ------------------------------------------------------------ capabilities

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
    id?: MessageId;
    target: Address;
    message: Message;
    blob?: LazyLoadBlob | null;
    rsvp?: Address | null;
    context?: Uint8Array | null;
  }): MessageId {
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

  /** Requests of modules awaited through request(), by id. */
  private awaited = new Map<MessageId, { resolve(km: KernelMessage): void; reject(e: SendError): void }>();

  request(source: ProcessId, msg: {
    target: Address;
    body: Uint8Array;
    blob?: LazyLoadBlob | null;
    timeoutSeconds: number;
  }): Promise<KernelMessage> {
    const id = randomId();
    const message: Message = {
      Request: {
        inherit: false,
        expects_response: msg.timeoutSeconds,
        body: msg.body,
        metadata: null,
        capabilities: [],
      },
    };
    // Registered before sending: a request can fail (Offline) before send returns.
    const answered = new Promise<KernelMessage>((resolve, reject) => this.awaited.set(id, { resolve, reject }));
    try {
      this.send(source, { id, target: msg.target, message, blob: msg.blob });
    } catch (e) {
      this.awaited.delete(id);
      throw e;
    }
    return answered;
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

  /** Tracks a request's timeout and who awaits its answer (`keepBlob`: the answer's blob stays here). */
  expect(requester: ProcessId, km: KernelMessage, context: Uint8Array | null, keepBlob = false, releaseBlob = false) {
    const seconds = (km.message as { Request: { expects_response: number } }).Request.expects_response;
    this.deadlines.set(km.id, seconds * 1000);
    this.pending.set(km.id, { requester, context, km, keepBlob, releaseBlob });
  }

  /** Returns the request `id` to its requester as a SendError; `reached`: it may have reached its target. */
  fail(id: MessageId, kind: SendErrorKind, reached = true) {
    const p = this.pending.take(id);
    if (!p) return;
    this.deadlines.clear(id);
    if (reached) unansweredRequest(p.km, this.our);
    const error: SendError = {
      kind,
      target: p.km.target,
      message: p.km.message,
      lazy_load_blob: p.km.lazy_load_blob,
    };
    const awaited = this.awaited.get(id);
    if (awaited) {
      this.awaited.delete(id);
      return awaited.reject(error);
    }
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
    if (km.lazy_load_blob) routedBlob(km.lazy_load_blob.bytes.length);
    if (nodeOf(km.target) !== this.our) {
      const net = this.modules.get(NET);
      if (net) net.handle(km, null);
      else this.fail(km.id, "Offline");
      return;
    }
    const target = processOf(km.target);
    let context: Uint8Array | null = null;
    let keepBlob = false;
    if ("Response" in km.message) {
      const p = this.pending.get(km.id);
      if (!p || p.requester !== target) {
        const line = `kernel: dropped response ${km.id} from ${km.source}: nobody awaits it`;
        this.print(2, line, { source: this.culprit(km.source), kind: "unawaited response" });
        return;
      }
      this.pending.take(km.id);
      this.deadlines.clear(km.id);
      answered(p.km, km, this.our, p.releaseBlob === true);
      context = p.context;
      keepBlob = p.keepBlob ?? false;
    }
    const awaited = "Response" in km.message ? this.awaited.get(km.id) : undefined;
    if (awaited) {
      this.awaited.delete(km.id);
      return awaited.resolve(km);
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
      this.caps.noteReceived(target, inner.capabilities);
      if (!r.deliver(km, context, keepBlob || ("Request" in km.message && r.keepIncomingBlobs))) {
        const held = `${(r.withheldBytes / 2 ** 20).toFixed(0)} MiB`;
        this.print(
          0,
          `kernel: ${target} already has ${held} of blobs kept in the kernel, the most one process may: one of ${
            km.lazy_load_blob!.bytes.length
          } bytes was delivered to it instead (pass kept blobs on or release them)`,
          { source: target, kind: "kept blobs" },
        );
      }
      return;
    }
    if (this.lifecycle.queueForRestart(target, km, context)) return;
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
   * response reaches it only if it awaits one: route checks). Capabilities
   * come with it only when their issuer's signature holds (net checks them:
   * cap_signatures.ts). A refused
   * request gets no answer, as from a process that takes nothing from the
   * network: the sender sees Timeout.
   */
  deliverRemote(km: KernelMessage) {
    if (nodeOf(km.target) !== this.our) return;
    const target = processOf(km.target);
    const source = nodeOf(km.source);
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

  // ------------------------------------------------------------ process lifecycle (lifecycle.ts)

  /** Adds a process to the map (InitializeProcess); it does not run yet. */
  initializeProcess(id: ProcessId, p: PersistedProcess, code?: Uint8Array) {
    parseProcessId(id);
    if (this.running.has(id)) this.lifecycle.stop(id, true);
    if (code) this.code.put(p.wasm_bytes_handle, code);
    else this.code.invalidate(p.wasm_bytes_handle);
    this.processes.set(id, p);
  }

  /** Starts a process that is in the map (RunProcess). */
  runProcess(id: ProcessId): void {
    this.lifecycle.run(id);
  }

  /** KillProcess: stops it and removes it from the map; Restart is not honoured. */
  killProcess(id: ProcessId): boolean {
    return this.lifecycle.kill(id);
  }

  // ------------------------------------------------------------ inspection and shutdown

  status(id: ProcessId): ProcessStatus {
    return this.lifecycle.status(id);
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
    for (const id of [...this.running.keys()]) this.lifecycle.stop(id, false);
    this.lifecycle.clearTimers();
    this.deadlines.stop();
    this.pending.clear();
    await this.sandbox.close();
    for (const m of this.modules.values()) await m.shutdown?.();
    await this.processes.flush();
    await this.state.flush();
  }
}
