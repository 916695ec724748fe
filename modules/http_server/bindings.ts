/**
 * The paths processes have bound. Every path is stored with the binding
 * process's id in front (`/app:app:pub/api`), so a process can only ever
 * name, replace or remove its own. Lookup is by exact path or by a pattern
 * with `:name` segments; nothing here touches the file system, so a URL with
 * `..` or encoded dots can match nothing but a binding.
 */
import type { ProcessId } from "../../runtime/types.ts";

export interface Binding {
  process: ProcessId;
  /** The full path, process id first. */
  path: string;
  authenticated: boolean;
  localOnly: boolean;
  /** SecureBind: served only on the process's own subdomain, always authenticated. */
  secure: boolean;
  /** cache: the blob served as is to every GET. */
  static: { bytes: Uint8Array; mime: string | null; etag: string } | null;
  /** WebSocketBind with extension: the channel speaks the extension protocol. */
  extension: boolean;
}

export class BindError extends Error {
  override name = "BindError";
}

const MAX_PATH = 1024;
const MAX_PER_PROCESS = 4096;

/** The full path for `path` bound by `process`: `/` alone is the process's root. */
export function fullPath(process: ProcessId, path: string): string {
  if (typeof path !== "string" || !path.startsWith("/")) throw new BindError(`path must start with "/": ${path}`);
  if (path.length > MAX_PATH) throw new BindError(`path over ${MAX_PATH} characters`);
  const segs = path.split("/").slice(1);
  if (path !== "/" && segs.some((s) => s === "" || s === "." || s === "..")) {
    throw new BindError(`path ${path} has an empty, "." or ".." segment`);
  }
  if (!/^[A-Za-z0-9._~:@!$&'()*+,;=%\/-]*$/.test(path)) {
    throw new BindError(`path ${path} has characters a URL path cannot`);
  }
  return path === "/" ? `/${process}` : `/${process}${path}`;
}

/** A URL path as bindings are stored: no trailing slash (but the root). */
export function normalPath(pathname: string): string {
  return pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
}

export class BindingTable {
  private exact = new Map<string, Binding>();
  private patterns = new Map<string, { binding: Binding; segs: string[] }>();
  private count = new Map<ProcessId, number>();

  bind(b: Binding) {
    const had = this.exact.has(b.path) || this.patterns.has(b.path);
    if (!had && (this.count.get(b.process) ?? 0) >= MAX_PER_PROCESS) {
      throw new BindError(`${b.process} has ${MAX_PER_PROCESS} paths bound, the most a process may`);
    }
    this.remove(b.path);
    if (b.path.split("/").slice(2).some((s) => s.startsWith(":") && s.length > 1)) {
      this.patterns.set(b.path, { binding: b, segs: b.path.split("/") });
    } else this.exact.set(b.path, b);
    this.count.set(b.process, (this.count.get(b.process) ?? 0) + 1);
  }

  /** Removes `path` (a full path); returns whether something was bound there. */
  remove(path: string): boolean {
    const b = this.exact.get(path) ?? this.patterns.get(path)?.binding;
    if (!b) return false;
    this.exact.delete(path);
    this.patterns.delete(path);
    const n = (this.count.get(b.process) ?? 1) - 1;
    if (n) this.count.set(b.process, n);
    else this.count.delete(b.process);
    return true;
  }

  removeProcess(process: ProcessId) {
    for (const b of this.all()) if (b.process === process) this.remove(b.path);
  }

  all(): Binding[] {
    return [...this.exact.values(), ...[...this.patterns.values()].map((p) => p.binding)];
  }

  has(path: string): boolean {
    return this.exact.has(path) || this.patterns.has(path);
  }

  /** The binding for a request path, with its `:name` values. */
  match(pathname: string): { binding: Binding; params: Record<string, string> } | null {
    const path = normalPath(pathname);
    const b = this.exact.get(path);
    if (b) return { binding: b, params: {} };
    if (this.patterns.size === 0) return null;
    const segs = path.split("/");
    outer: for (const p of this.patterns.values()) {
      if (p.segs.length !== segs.length || p.segs[1] !== segs[1]) continue;
      const params: Record<string, string> = {};
      for (let i = 2; i < segs.length; i++) {
        const want = p.segs[i];
        if (want.startsWith(":") && want.length > 1) {
          try {
            params[want.slice(1)] = decodeURIComponent(segs[i]);
          } catch {
            continue outer;
          }
        } else if (want !== segs[i]) continue outer;
      }
      return { binding: p.binding, params };
    }
    return null;
  }
}
