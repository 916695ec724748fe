/**
 * Which SQL a request may run. Write takes statements that start with a write
 * keyword, Query those that start with a read keyword (and runs them on a
 * read-only connection, so `WITH ... DELETE` cannot sneak a write in). One
 * statement per request: text after the first `;` is refused, not dropped.
 */
const WRITE = new Set([
  "INSERT",
  "UPDATE",
  "DELETE",
  "CREATE",
  "DROP",
  "ALTER",
  "REPLACE",
  "REINDEX",
  "ANALYZE",
  "VACUUM",
]);
const READ = new Set(["SELECT", "WITH", "EXPLAIN", "VALUES"]);

function firstKeyword(sql: string): string {
  const m = sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/, "").match(/^[A-Za-z]+/);
  return m ? m[0].toUpperCase() : "";
}

export function isWrite(sql: string): boolean {
  return WRITE.has(firstKeyword(sql));
}

const checked = new Map<string, boolean>();

/** A single write statement: checked once per distinct text (batches repeat one statement). */
export function isSingleWrite(sql: string): boolean {
  let ok = checked.get(sql);
  if (ok === undefined) {
    ok = isWrite(sql) && !hasSecondStatement(sql);
    if (checked.size > 1000) checked.clear();
    checked.set(sql, ok);
  }
  return ok;
}

export function isRead(sql: string): boolean {
  return READ.has(firstKeyword(sql));
}

/** Whether anything but whitespace and comments follows the first statement. */
export function hasSecondStatement(sql: string): boolean {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      i = sql.indexOf(close, i + 1);
      if (i < 0) return false;
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      const nl = sql.indexOf("\n", i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === ";") {
      return sql.slice(i + 1).replace(/(\s|;|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)/g, "").length > 0;
    } else i++;
  }
  return false;
}

export type SqlParam = null | number | bigint | string | Uint8Array;

/**
 * Parameters from the request blob: a JSON array of null, booleans, numbers,
 * strings, byte arrays, or the book's tagged SqlValue ({"Integer": 1}, ...).
 */
export function parseParams(blob: Uint8Array | null): SqlParam[] | null {
  if (!blob || blob.length === 0) return [];
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(blob));
  } catch {
    return null;
  }
  return paramList(v);
}

/** Parameters already parsed from JSON (a batch's entries). */
export function paramList(v: unknown): SqlParam[] | null {
  if (!Array.isArray(v)) return null;
  const out: SqlParam[] = [];
  for (const p of v) {
    const c = param(p);
    if (c === undefined) return null;
    out.push(c);
  }
  return out;
}

function param(p: unknown): SqlParam | undefined {
  if (p === null || p === "Null") return null;
  if (typeof p === "boolean") return p ? 1 : 0;
  if (typeof p === "number") return Number.isFinite(p) ? p : undefined;
  if (typeof p === "string") return p;
  if (Array.isArray(p)) {
    return p.every((b) => Number.isInteger(b) && b >= 0 && b < 256) ? Uint8Array.from(p) : undefined;
  }
  if (p && typeof p === "object") {
    const [[tag, val]] = Object.entries(p).length === 1 ? Object.entries(p) : [[null, null]];
    if (tag === "Integer" && Number.isSafeInteger(val)) return val as number;
    if (tag === "Real" && typeof val === "number") return val;
    if (tag === "Text" && typeof val === "string") return val;
    if (tag === "Boolean" && typeof val === "boolean") return val ? 1 : 0;
    if (tag === "Blob") return param(val) instanceof Uint8Array ? param(val) : undefined;
  }
  return undefined;
}
