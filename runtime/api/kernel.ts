/**
 * kernel:distro:sys: the book's KernelCommand (JSON requests) and
 * KernelResponse, what `top` shows of a process, and why a spawn is refused.
 */
import type { Capability, OnExit, ProcessId } from "../types.ts";

export type KernelCommand =
  | "Booted"
  | {
    InitializeProcess: {
      id: ProcessId;
      wasm_bytes_handle: string;
      wit_version: number | null;
      on_exit: OnExit;
      initial_capabilities: Capability[];
      public: boolean;
    };
  }
  | { GrantCapabilities: { target: ProcessId; capabilities: Capability[] } }
  | { DropCapabilities: { target: ProcessId; capabilities: Capability[] } }
  | { RunProcess: ProcessId }
  | { KillProcess: ProcessId }
  | "Shutdown"
  | { Debug: KernelPrint }
  /** hyperdeno, root only (package_commands.ts): the App Store's install and uninstall through the runtime's installer. */
  | { InstallPackage: { package_id: string; path: string } }
  | { UninstallPackage: string };

export type KernelPrint = "ProcessMap" | { Process: ProcessId } | { HasCap: { on: ProcessId; cap: Capability } };

/** A process as the kernel persists it, with its status when inspected. */
export interface UserspacePersistedProcess {
  wasm_bytes_handle: string;
  wit_version: number | null;
  on_exit: OnExit;
  capabilities: Capability[];
  public: boolean;
  status?: ProcessStatus;
  /** hyperdeno: a script the terminal started (short-lived; `top` counts them apart). */
  script?: boolean;
}

export type KernelPrintResponse =
  | { ProcessMap: Record<ProcessId, UserspacePersistedProcess | { runtime_module: true }> }
  | { Process: UserspacePersistedProcess | null }
  | { HasCap: boolean | null };

export type KernelResponse =
  | "InitializedProcess"
  | "InitializeProcessError"
  | "StartedProcess"
  | "RunProcessError"
  | { KilledProcess: ProcessId }
  | { Debug: KernelPrintResponse }
  | { InstalledPackage: { package_id: string; processes: ProcessId[]; scripts: string[]; requested: string[] } }
  | { UninstalledPackage: ProcessId[] }
  /** hyperdeno: a command the kernel could not take, answered when its sender awaits an answer. */
  | { Err: string };

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

/**
 * Why the kernel refused a spawn: process_lib's SpawnError, and
 * TooManyProcesses (hyperdeno: a package runs at most LIMITS.processesPerPackage).
 */
export type SpawnError = "NameTaken" | "NoFileAtPath" | "TooManyProcesses";
