/**
 * The book's package files: pkg/manifest.json (processes to start) and
 * pkg/scripts.json (terminal scripts), validated with errors that name the
 * field to fix.
 */
import {
  type Capability,
  formatAddress,
  MESSAGING,
  NETWORK,
  type OnExit,
  ParseError,
  parseProcessId,
  validateOnExit,
} from "../types.ts";
import { HTTP_CLIENT, KERNEL, moduleAddress } from "../api/processes.ts";
import { LOCAL_NETWORK } from "../api/http_client.ts";

export type CapRequest = string | { process: string; params: unknown };

export interface ManifestEntry {
  process_name: string;
  process_wasm_path: string;
  on_exit: OnExit;
  request_networking: boolean;
  request_capabilities: CapRequest[];
  grant_capabilities: CapRequest[];
  public: boolean;
}

export function parseManifest(text: string, where = "pkg/manifest.json"): ManifestEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ParseError(`${where} is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new ParseError(`${where} must be a JSON array of process entries`);
  const names = new Set<string>();
  return raw.map((e, i) => {
    const at = `${where}[${i}]`;
    if (!e || typeof e !== "object") throw new ParseError(`${at} must be an object`);
    const o = e as Record<string, unknown>;
    if (typeof o.process_name !== "string" || !/^[a-z0-9-]+$/.test(o.process_name)) {
      throw new ParseError(`${at}.process_name must be a name of a-z, 0-9 and -`);
    }
    if (names.has(o.process_name)) throw new ParseError(`${at}.process_name "${o.process_name}" appears twice`);
    names.add(o.process_name);
    if (typeof o.process_wasm_path !== "string") {
      throw new ParseError(`${at}.process_wasm_path must be a path like "/${o.process_name}.js"`);
    }
    let onExit: OnExit;
    try {
      onExit = validateOnExit(o.on_exit ?? "None");
    } catch (err) {
      throw new ParseError(`${at}.on_exit: ${(err as Error).message}`);
    }
    return {
      process_name: o.process_name,
      process_wasm_path: o.process_wasm_path,
      on_exit: onExit,
      request_networking: Boolean(o.request_networking),
      request_capabilities: capRequests(o.request_capabilities, `${at}.request_capabilities`),
      grant_capabilities: capRequests(o.grant_capabilities, `${at}.grant_capabilities`),
      public: Boolean(o.public),
    };
  });
}

function capRequests(v: unknown, at: string): CapRequest[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ParseError(`${at} must be an array`);
  return v.map((c, i) => {
    if (typeof c === "string") {
      try {
        parseProcessId(c);
      } catch (e) {
        throw new ParseError(`${at}[${i}]: ${(e as Error).message}`);
      }
      return c;
    }
    if (c && typeof c === "object" && typeof (c as { process?: unknown }).process === "string") {
      try {
        parseProcessId((c as { process: string }).process);
      } catch (e) {
        throw new ParseError(`${at}[${i}].process: ${(e as Error).message}`);
      }
      return { process: (c as { process: string }).process, params: (c as { params?: unknown }).params ?? null };
    }
    throw new ParseError(`${at}[${i}] must be a process id or {"process", "params"}`);
  });
}

/** A requested capability as the token it names on node `our`. */
export function capFor(our: string, c: CapRequest, issuerFallback?: string): Capability {
  if (typeof c === "string") return { issuer: formatAddress(our, c), params: MESSAGING };
  const params = typeof c.params === "string" ? JSON.stringify(c.params) : JSON.stringify(c.params);
  return { issuer: formatAddress(our, c.process ?? issuerFallback), params };
}

export function networkCap(our: string): Capability {
  return { issuer: moduleAddress(our, KERNEL), params: NETWORK };
}

/** What a process or script asks for, as one line for the node's log and `start-package`. */
export function describeRequest(e: {
  root?: boolean;
  public: boolean;
  request_networking: boolean;
  request_capabilities: CapRequest[];
  grant_capabilities: CapRequest[];
}): string {
  const name = (c: CapRequest) => typeof c === "string" ? c : `${meaningKey(c)}${MEANINGS.get(meaningKey(c)) ?? ""}`;
  const parts = [
    e.root ? "ROOT (every capability the terminal holds)" : "",
    e.request_networking ? "networking" : "",
    e.request_capabilities.length ? `capabilities [${e.request_capabilities.map(name).join(", ")}]` : "",
    e.grant_capabilities.length ? `grants its capability to [${e.grant_capabilities.map(name).join(", ")}]` : "",
    e.public ? "public (anyone may message it)" : "",
  ].filter(Boolean);
  return parts.length ? parts.join("; ") : "nothing";
}

/** What a capability with params means, said where the install lists it, for those a user must weigh. */
const meaningKey = (c: { process: string; params: unknown }) => `${c.process} ${JSON.stringify(c.params)}`;
const MEANINGS = new Map([
  [
    meaningKey({ process: HTTP_CLIENT, params: LOCAL_NETWORK }),
    " (may reach this machine and its local networks: loopback, private and link-local addresses)",
  ],
]);

export interface ScriptEntry {
  root: boolean;
  public: boolean;
  request_networking: boolean;
  request_capabilities: CapRequest[];
  grant_capabilities: CapRequest[];
  wit_version: number | null;
}

export function parseScripts(text: string, where = "pkg/scripts.json"): Record<string, ScriptEntry> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ParseError(`${where} is not JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ParseError(`${where} must be an object of "script.js": {...}`);
  }
  const out: Record<string, ScriptEntry> = {};
  for (const [file, v] of Object.entries(raw)) {
    const at = `${where}["${file}"]`;
    if (!/^[a-z0-9-]+\.(js|wasm)$/.test(file)) throw new ParseError(`${at}: script files are named like "echo.js"`);
    if (!v || typeof v !== "object") throw new ParseError(`${at} must be an object`);
    const o = v as Record<string, unknown>;
    out[file] = {
      root: Boolean(o.root),
      public: Boolean(o.public),
      request_networking: Boolean(o.request_networking),
      request_capabilities: capRequests(o.request_capabilities, `${at}.request_capabilities`),
      grant_capabilities: capRequests(o.grant_capabilities, `${at}.grant_capabilities`),
      wit_version: typeof o.wit_version === "number" ? o.wit_version : null,
    };
  }
  return out;
}

export interface PackageMetadata {
  package_name: string;
  publisher: string;
  current_version: string;
}

export function parseMetadata(text: string, where = "metadata.json"): PackageMetadata {
  let raw: { properties?: Record<string, unknown> };
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ParseError(`${where} is not JSON: ${(e as Error).message}`);
  }
  const p = raw?.properties;
  if (!p || typeof p.package_name !== "string" || typeof p.publisher !== "string") {
    throw new ParseError(`${where} needs properties.package_name and properties.publisher`);
  }
  parseProcessId(`x:${p.package_name}:${p.publisher}`);
  return {
    package_name: p.package_name,
    publisher: p.publisher,
    current_version: String(p.current_version ?? "0.0.0"),
  };
}
