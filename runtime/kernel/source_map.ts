/**
 * Crash traces in the package's own terms: a process runs its bundle
 * (pkg/<process>.js), so V8 names places in the bundle; `build` writes the
 * bundle's source map beside it (pkg/<process>.js.map), and a stack's frames
 * are rewritten to the source files and lines the developer wrote.
 */

interface Segment {
  col: number;
  source: number;
  line: number;
  srcCol: number;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decodes a source map's `mappings`: per generated line, its segments in column order. */
function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let source = 0, line = 0, srcCol = 0;
  for (const text of mappings.split(";")) {
    const segs: Segment[] = [];
    let col = 0;
    for (const seg of text.split(",")) {
      if (!seg) continue;
      const v: number[] = [];
      let shift = 0, value = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        if (digit < 0) throw new Error("bad source map");
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          v.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += v[0];
      if (v.length >= 4) {
        source += v[1];
        line += v[2];
        srcCol += v[3];
        segs.push({ col, source, line, srcCol });
      }
    }
    lines.push(segs);
  }
  return lines;
}

export interface SourceMap {
  sources: string[];
  lines: Segment[][];
}

export function parseSourceMap(text: string): SourceMap | null {
  try {
    const raw = JSON.parse(text) as { sources?: string[]; mappings?: string };
    if (!Array.isArray(raw.sources) || typeof raw.mappings !== "string") return null;
    // Sources are relative to pkg/, where the bundle was written: `../ping/main.ts` is the package's ping/main.ts.
    const sources = raw.sources.map((s) => s.replace(/^\.\.\//, ""));
    return { sources, lines: decodeMappings(raw.mappings) };
  } catch {
    return null;
  }
}

/** The source place of a 1-based line and column of the bundle, or null where the map says nothing. */
export function originalPosition(map: SourceMap, line: number, col: number): string | null {
  const segs = map.lines[line - 1];
  if (!segs?.length) return null;
  let best: Segment | null = null;
  for (const s of segs) {
    if (s.col <= col - 1) best = s;
    else break;
  }
  best ??= segs[0];
  return `${map.sources[best.source]}:${best.line + 1}:${best.srcCol + 1}`;
}

/** Rewrites each `<file>:<line>:<col>` naming `file` in `stack` to its place in the sources. */
export function mapStack(stack: string, file: string, map: SourceMap): string {
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return stack.replace(
    new RegExp(`${escaped}:(\\d+):(\\d+)`, "g"),
    (whole, l, c) => originalPosition(map, Number(l), Number(c)) ?? whole,
  );
}

/**
 * A crash's stack with the bundle's places (frames naming `file`, the
 * process's address) turned into the sources', when `bundlePath`.map exists.
 */
export function sourceMappedStack(stack: string, file: string, bundlePath: string): string {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${bundlePath}.map`);
  } catch {
    return stack;
  }
  const map = parseSourceMap(text);
  return map ? mapStack(stack, file, map) : stack;
}
