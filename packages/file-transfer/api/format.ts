/** How sizes, listings and progress read to a person in the terminal. */
import type { FileInfo, TransferView } from "./types.ts";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 → "1.5 KiB"; bytes below 1 KiB stay whole. */
export function humanBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${UNITS[i]}`;
}

/** Seconds as "4s", "3m05s", "2h01m". */
export function humanDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "--";
  if (s < 9.95) return `${s.toFixed(1)}s`;
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor(t / 60) % 60).padStart(2, "0")}m`;
}

/** A ListFiles answer as aligned columns: name, size, and a trailing / on folders. */
export function fileTable(node: string, files: FileInfo[]): string {
  if (files.length === 0) return `${node} has no files to share`;
  const rows = files.map((f) => [f.is_dir ? `${f.name}/` : f.name, humanBytes(f.size)]);
  const w = Math.max(4, ...rows.map((r) => r[0].length));
  const sw = Math.max(4, ...rows.map((r) => r[1].length));
  const total = files.filter((f) => !f.is_dir).reduce((a, f) => a + f.size, 0);
  const count = files.filter((f) => !f.is_dir).length;
  return [
    `${node} shares ${count} file${count === 1 ? "" : "s"} (${humanBytes(total)}):`,
    `  ${"NAME".padEnd(w)}  ${"SIZE".padStart(sw)}`,
    ...rows.map(([n, s]) => `  ${n.padEnd(w)}  ${s.padStart(sw)}`),
  ].join("\n");
}

/** One transfer as a status fragment: `↓ big.bin from fake2.dev 42% 430 MiB/1.0 GiB 210 MiB/s ETA 3s`. */
export function progressLine(t: TransferView): string {
  const arrow = t.direction === "download" ? "↓" : "↑";
  const where = t.direction === "download" ? `from ${t.peer}` : `to ${t.peer}`;
  if (t.files !== undefined) {
    // A folder moves as its files, each a transfer of its own: its row says what it holds.
    return `${arrow} ${t.name}/ ${where}: a folder of ${t.files} file${t.files === 1 ? "" : "s"}, ${
      humanBytes(t.size ?? 0)
    }`;
  }
  if (t.size === null) return `${arrow} ${t.name} ${where}: ${t.status}`;
  const pct = t.size === 0 ? 100 : Math.floor((t.bytes / t.size) * 100);
  const eta = t.speed > 0 ? humanDuration((t.size - t.bytes) / t.speed) : "--";
  return `${arrow} ${t.name} ${where} ${pct}% ${humanBytes(t.bytes)}/${humanBytes(t.size)} ${
    humanBytes(Math.round(t.speed))
  }/s ETA ${eta}`;
}

/** `3 downloads: a from x, b from y, c from z` (the first three named, then how many more). */
export function downloadsNamed(named: string[]): string {
  const more = named.length > 3 ? `, and ${named.length - 3} more` : "";
  return `${named.length} download${named.length === 1 ? "" : "s"}: ${named.slice(0, 3).join(", ")}${more}`;
}

/** The transfers script's table. */
export function transferTable(ts: TransferView[]): string {
  if (ts.length === 0) return "no transfers";
  return ts.map((t) =>
    `${t.id}  ${t.status.padEnd(11)} ${progressLine(t)}${t.error ? `\n    ${t.error}` : ""}${
      t.status === "failed" && t.direction === "download"
        ? `\n    ${t.resumable ? "resumable: the bytes received are kept" : "not resumable: resuming starts over"}`
        : ""
    }`
  ).join("\n");
}
