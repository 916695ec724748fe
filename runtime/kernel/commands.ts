/**
 * kernel:distro:sys — the book's Kernel API: KernelCommand requests in JSON,
 * KernelResponse answers. Only holders of the capability to message the
 * kernel get here (the router checks), so this is root authority: a command
 * whose source is on another node is refused here too (the router never lets
 * one through), since its process id would be only that node's claim.
 */
import {
  type Capability,
  formatAddress,
  fromUtf8,
  jsonBytes,
  type KernelMessage,
  MESSAGING,
  nodeOf,
  ParseError,
  parseProcessId,
  type ProcessId,
  processOf,
  ROOT,
  validateCapability,
  validateOnExit,
} from "../types.ts";
import type { Kernel } from "./kernel.ts";
import { KERNEL, TERMINAL_APP } from "../api/processes.ts";
import type { RuntimeModule } from "./module.ts";
import { parseVariant } from "../api/variant.ts";
import { packageCommand } from "./package_commands.ts";
import type { KernelPrintResponse, KernelResponse, UserspacePersistedProcess } from "../api/kernel.ts";

export class KernelCommands implements RuntimeModule {
  readonly process = KERNEL;
  readonly public = false;
  /** Called on Shutdown from a runtime module. */
  onShutdown: (() => void) | null = null;

  constructor(private k: Kernel) {}

  handle(km: KernelMessage) {
    if (!("Request" in km.message)) return;
    if (nodeOf(km.source) !== this.k.our) {
      const line = `kernel: refused a KernelCommand from ${km.source}: only local processes command the kernel`;
      return this.k.print(0, line, { source: nodeOf(km.source), kind: "remote command" });
    }
    const reply = (v: KernelResponse) => {
      if (km.message && "Request" in km.message && km.message.Request.expects_response !== null) {
        this.k.respond(km, jsonBytes(v));
      }
    };
    let cmd: unknown;
    try {
      cmd = JSON.parse(fromUtf8(km.message.Request.body));
    } catch {
      this.k.print(0, `kernel: ${km.source} sent a request that is not a JSON KernelCommand`);
      return reply({ Err: "not a JSON KernelCommand" });
    }
    const source = processOf(km.source);
    const [name, arg = null] = parseVariant(cmd) ?? [];
    try {
      switch (name) {
        case "Booted":
          return;
        case "InitializeProcess":
          try {
            this.initialize(source, arg as Record<string, unknown>, km.lazy_load_blob?.bytes);
            return reply("InitializedProcess");
          } catch (e) {
            this.k.print(0, `kernel: InitializeProcess from ${source} failed: ${(e as Error).message}`);
            return reply("InitializeProcessError");
          }
        case "RunProcess":
          try {
            parseProcessId(arg as string);
            this.k.runProcess(arg as ProcessId);
            return reply("StartedProcess");
          } catch (e) {
            this.k.print(0, `kernel: RunProcess from ${source} failed: ${(e as Error).message}`);
            return reply("RunProcessError");
          }
        case "KillProcess":
          parseProcessId(arg as string);
          this.k.killProcess(arg as ProcessId);
          return reply({ KilledProcess: arg as ProcessId });
        case "GrantCapabilities":
        case "DropCapabilities": {
          const { target, capabilities } = arg as { target: ProcessId; capabilities: Capability[] };
          parseProcessId(target);
          if (!Array.isArray(capabilities)) throw new ParseError("capabilities must be an array");
          const caps = capabilities.map(validateCapability);
          if (name === "GrantCapabilities") this.k.processes.grant(target, caps);
          else this.k.processes.drop(target, caps);
          return;
        }
        case "Shutdown":
          if (this.k.isModule(source)) this.onShutdown?.();
          return;
        case "Debug":
          return reply({ Debug: this.debug(arg) });
        case "InstallPackage":
        case "UninstallPackage":
          if (!this.isRoot(source)) throw new ParseError(`${name} needs the kernel's root capability`);
          return void packageCommand(this.k, source, name, arg).then(reply, (e) => {
            this.k.print(0, `kernel: ${name} from ${source} failed: ${(e as Error).message}`);
            reply({ Err: (e as Error).message });
          });
        default:
          throw new ParseError(`unknown KernelCommand ${JSON.stringify(name)}`);
      }
    } catch (e) {
      this.k.print(0, `kernel: bad KernelCommand from ${source}: ${(e as Error).message}`);
      reply({ Err: `bad KernelCommand: ${(e as Error).message}` });
    }
  }

  private isRoot(source: ProcessId): boolean {
    return this.k.isModule(source) || this.k.processes.hasCap(source, { issuer: this.k.addr(KERNEL), params: ROOT });
  }

  private initialize(source: ProcessId, a: Record<string, unknown>, blob?: Uint8Array) {
    if (!a || typeof a !== "object") throw new ParseError("InitializeProcess takes an object");
    const id = a.id as ProcessId;
    parseProcessId(id);
    const handle = this.k.code.normalize(String(a.wasm_bytes_handle));
    if (!blob && !this.k.code.exists(handle)) {
      throw new ParseError(`InitializeProcess needs the code as its blob (nothing at ${handle})`);
    }
    const wanted = (Array.isArray(a.initial_capabilities) ? a.initial_capabilities : []).map(validateCapability);
    // A process can only hand on what it holds; runtime modules are trusted.
    const root = this.k.processes.hasCap(source, { issuer: this.k.addr(KERNEL), params: ROOT });
    const caps = this.k.isModule(source) || root
      ? wanted
      : wanted.filter((c) => this.k.processes.hasCap(source, c) || c.issuer === this.k.addr(source));
    this.k.initializeProcess(id, {
      wasm_bytes_handle: handle,
      wit_version: typeof a.wit_version === "number" ? a.wit_version : null,
      on_exit: validateOnExit(a.on_exit ?? "None"),
      capabilities: caps,
      public: Boolean(a.public),
    }, blob);
    if (source === TERMINAL_APP) this.k.scripts.add(id);
    if (!a.public && !this.k.isModule(source)) {
      this.k.processes.grant(source, [{ issuer: formatAddress(this.k.our, id), params: MESSAGING }]);
    }
  }

  private scriptMark(id: ProcessId): { script?: true } {
    return this.k.scripts.has(id) ? { script: true } : {};
  }

  private debug(arg: unknown): KernelPrintResponse {
    if (arg === "ProcessMap") {
      const map: Record<ProcessId, UserspacePersistedProcess | { runtime_module: true }> = {};
      for (const id of this.k.processes.ids()) {
        map[id] = { ...this.k.processes.get(id)!, status: this.k.status(id), ...this.scriptMark(id) };
      }
      for (const id of this.k.modulesList()) map[id] = { runtime_module: true };
      return { ProcessMap: map };
    }
    if (arg && typeof arg === "object" && "Process" in arg) {
      const id = (arg as { Process: string }).Process;
      parseProcessId(id);
      const p = this.k.processes.get(id);
      return { Process: p ? { ...p, status: this.k.status(id), ...this.scriptMark(id) } : null };
    }
    if (arg && typeof arg === "object" && "HasCap" in arg) {
      const { on, cap } = (arg as { HasCap: { on: string; cap: unknown } }).HasCap;
      parseProcessId(on);
      return { HasCap: this.k.processes.has(on) ? this.k.processes.hasCap(on, validateCapability(cap)) : null };
    }
    throw new ParseError(
      `unknown Debug request ${JSON.stringify(arg)}: use "ProcessMap", {"Process": id} or {"HasCap": {on, cap}}`,
    );
  }
}
