/**
 * Who may do what here. Listing and downloading are open to every node unless
 * the owner narrows them; nobody may push until the owner allows a node.
 */
import type { AllowList, Permission } from "../api/types.ts";

export const PERMISSIONS: Permission[] = ["list", "download", "push"];

export function defaultAllowList(): AllowList {
  return { list: ["*"], download: ["*"], push: [] };
}

export function permits(a: AllowList, node: string, action: Permission): boolean {
  return a[action].includes("*") || a[action].includes(node);
}

export function isPermission(v: unknown): v is Permission {
  return typeof v === "string" && (PERMISSIONS as string[]).includes(v);
}

/** Allows (or with `allow` false, stops allowing) `node` (or `*`) to `action`. */
export function change(a: AllowList, node: string, action: Permission, allow: boolean) {
  const set = new Set(a[action]);
  if (allow) set.add(node);
  else set.delete(node);
  a[action] = [...set].sort();
}

/** A refusal a peer can act on. */
export function refusal(our: string, node: string, action: Permission, packageId: string): string {
  const verb = action === "list" ? "list files on" : action === "download" ? "download from" : "push files to";
  return `${node} may not ${verb} ${our}: ${our} has not allowed it (on ${our}: allow:${packageId} ${action} ${node})`;
}
