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

/** Asks a benchmark process on `port` to run `body` (as inject-message does) and returns its JSON answer. */
export async function callProcess<T>(port: number, process: string, body: unknown): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}/rpc:distro:sys/message`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ process, body: JSON.stringify(body), expects_response: 600 }),
  });
  const j = await r.json();
  if (r.status !== 200) throw new Error(`bench call to ${process} failed: ${JSON.stringify(j)}`);
  return JSON.parse(j.body);
}
