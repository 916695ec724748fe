/**
 * What a package asks for, as the owner is shown it before anything is granted: one line per capability,
 * networking, public flag and root. Two versions' lines compared say whether an update asks for more.
 */

interface Entry {
  process_name?: unknown;
  request_networking?: unknown;
  request_capabilities?: unknown;
  grant_capabilities?: unknown;
  public?: unknown;
}

/** The lines of a manifest.json's text (a manifest that is not an array of entries: InvalidManifest). */
export function requestedLines(manifestText: string): string[] {
  const entries = JSON.parse(manifestText) as Entry[];
  if (!Array.isArray(entries)) throw new Error("manifest.json is not an array of processes");
  const lines: string[] = [];
  for (const e of entries) {
    const who = String(e.process_name);
    if (e.request_networking) lines.push(`${who}: networking (talk to other nodes)`);
    if (e.public) lines.push(`${who}: public (any process may message it)`);
    for (const c of Array.isArray(e.request_capabilities) ? e.request_capabilities : []) {
      lines.push(`${who}: ${capLine(c)}`);
    }
    for (const c of Array.isArray(e.grant_capabilities) ? e.grant_capabilities : []) {
      lines.push(`${who}: grants ${capLine(c)}`);
    }
  }
  return [...new Set(lines)].sort();
}

function capLine(c: unknown): string {
  if (typeof c === "string") return `messages ${c}`;
  const o = c as { process?: unknown; params?: unknown };
  const params = typeof o?.params === "string" ? o.params : JSON.stringify(o?.params);
  return params === "root" || params === '"root"' ? `ROOT of ${o?.process}` : `${o?.process} ${params}`;
}

/** The lines `next` asks for that `granted` did not. */
export function newRequests(granted: string[], next: string[]): string[] {
  const had = new Set(granted);
  return next.filter((l) => !had.has(l));
}
