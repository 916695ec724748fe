/**
 * Where process code lives: files in the node's VFS, named by a handle like
 * `ping:template.os/pkg/ping.js` (the book's wasm_bytes_handle). Handles are
 * confined to `<home>/vfs`; a handle that climbs out is refused.
 */
import { ParseError, parsePackageId } from "../types.ts";
import { writeFileAtomicSync } from "./persist.ts";
import { checkProcessCode } from "./code_check.ts";

export class CodeStore {
  private cache = new Map<string, string>();
  constructor(private root: string) {}

  /** `/ping:template.os/pkg/ping.wasm` → `ping:template.os/pkg/ping.js` (validated). */
  normalize(handle: string): string {
    if (typeof handle !== "string") throw new ParseError("code path must be a string");
    const parts = handle.split("/").filter((p, i) => !(i === 0 && p === ""));
    if (parts.length < 2 || parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\0"))) {
      throw new ParseError(`bad code path "${handle}": expected package:publisher/drive/file`);
    }
    parsePackageId(parts[0]);
    const last = parts.length - 1;
    // Hyperware manifests name .wasm files; a hyperdeno build writes .js beside them.
    if (parts[last].endsWith(".wasm")) parts[last] = parts[last].slice(0, -5) + ".js";
    return parts.join("/");
  }

  path(handle: string): string {
    return `${this.root}/${this.normalize(handle)}`;
  }

  exists(handle: string): boolean {
    try {
      return Deno.statSync(this.path(handle)).isFile;
    } catch {
      return false;
    }
  }

  get(handle: string): string {
    const h = this.normalize(handle);
    let code = this.cache.get(h);
    if (code === undefined) {
      try {
        code = Deno.readTextFileSync(`${this.root}/${h}`);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new ParseError(`no code at ${h}: build the package (deno task build <dir>) and install it again`);
        }
        throw e;
      }
      checkProcessCode(code, h);
      this.cache.set(h, code);
    }
    return code;
  }

  put(handle: string, bytes: Uint8Array) {
    const h = this.normalize(handle);
    const path = `${this.root}/${h}`;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    writeFileAtomicSync(path, bytes);
    this.cache.delete(h);
  }

  invalidate(handle: string) {
    this.cache.delete(this.normalize(handle));
  }
}
