/**
 * homepage:homepage:sys: apps put a tile (and optionally a widget) on the
 * node's home page with the book's `add_to_homepage`, i.e. a request
 * `{"Add": {"label", "icon", "path", "widget"}}`; `"Remove"` takes the
 * sender's tile away, and so does the sender's exit. The page itself is
 * rendered by pages.ts from what is held here.
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { fromUtf8, jsonBytes, type KernelMessage, nodeOf, type ProcessId, processOf } from "../../runtime/types.ts";
import { HOMEPAGE, type HomepageApp } from "../../runtime/api/http.ts";
import { parseVariant } from "../../runtime/api/variant.ts";

const MAX_LABEL = 100;
const MAX_ICON = 256 * 1024;
const MAX_WIDGET = 256 * 1024;
const MAX_APPS = 1000;

export class HomepageModule implements RuntimeModule {
  readonly process = HOMEPAGE;
  readonly public = false;
  private apps = new Map<ProcessId, HomepageApp>();

  constructor(private k: KernelHandle) {}

  list(): HomepageApp[] {
    return [...this.apps.values()].sort((a, b) => a.label.localeCompare(b.label));
  }

  handle(km: KernelMessage) {
    if (!("Request" in km.message)) return;
    const from = processOf(km.source);
    let error: string | null = null;
    try {
      if (nodeOf(km.source) !== this.k.our) throw new Error("only processes of this node have tiles here");
      const [name, arg] = parseVariant(JSON.parse(fromUtf8(km.message.Request.body))) ?? [];
      if (name === "Remove") this.apps.delete(from);
      else if (name === "Add") this.apps.set(from, validApp(from, arg));
      else throw new Error(`expected {"Add": {...}} or "Remove", got ${name}`);
      if (this.apps.size > MAX_APPS) throw new Error(`more than ${MAX_APPS} apps`);
    } catch (e) {
      error = (e as Error).message;
      this.k.print(1, `homepage: refused a request from ${km.source}: ${error}`);
    }
    if (km.message.Request.expects_response !== null) {
      this.k.respond(km, jsonBytes(error === null ? { Ok: null } : { Err: error }));
    }
  }

  processExited(process: ProcessId) {
    this.apps.delete(process);
  }
}

function validApp(process: ProcessId, v: unknown): HomepageApp {
  const a = (v ?? {}) as Record<string, unknown>;
  const str = (k: string, max: number): string | null => {
    const x = a[k];
    if (x === null || x === undefined) return null;
    if (typeof x !== "string" || x.length > max) throw new Error(`${k} must be a string of at most ${max} characters`);
    return x;
  };
  const label = str("label", MAX_LABEL);
  if (!label) throw new Error("label is required");
  const path = str("path", 1024);
  if (path !== null && !path.startsWith("/")) throw new Error(`path must start with "/"`);
  const icon = str("icon", MAX_ICON);
  if (icon !== null && !/^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$/.test(icon)) {
    throw new Error("icon must be a data:image/...;base64, URL");
  }
  return { process, label, icon, path, widget: str("widget", MAX_WIDGET) };
}
