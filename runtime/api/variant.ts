/**
 * The book's enums travel externally tagged, as serde writes them: a unit
 * variant as its name (`"GetPeers"`), any other as an object with the
 * variant's name as its one key (`{"GetPeer": "fake.dev"}`).
 */

/** `[name, argument]` of an externally tagged variant (the argument undefined for a unit variant), or null. */
export function parseVariant(v: unknown): [string, unknown] | null {
  if (typeof v === "string") return [v, undefined];
  if (!v || typeof v !== "object") return null;
  const name = Object.keys(v)[0];
  return name === undefined ? null : [name, (v as Record<string, unknown>)[name]];
}
