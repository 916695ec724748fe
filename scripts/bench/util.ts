/** Shared bits of the benchmarks: statistics, ratios, and a table printer. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function fmt(n: number, digits = 1): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(digits);
}

export interface Row {
  name: string;
  ours: string;
  baseline: string;
  ratio: number;
  target: string;
  pass: boolean;
}

export function printRows(title: string, rows: Row[]) {
  console.log(`\n## ${title}\n`);
  console.log("| measure | hyperdeno | baseline (same run) | ratio | target |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.ours} | ${r.baseline} | ${r.ratio.toFixed(2)}× | ${r.target} ${r.pass ? "✓" : "✗"} |`,
    );
  }
}
