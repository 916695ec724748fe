/**
 * Which origin a request is on. The node's own pages live on the host the
 * node is reached by (`localhost:PORT`); each process's paths are served to
 * browsers on an origin of its own, `<label>.localhost:PORT`, which browsers
 * resolve to loopback and treat as a different site from `localhost` and
 * from every other app (tests/origins_browser_test.ts checks this in
 * Chromium). So an app's page can neither read the node's pages nor send the
 * node's cookie, and one app cannot act on another's origin.
 *
 * The label is the process id made readable (lower case, every run of other
 * characters as "-", at most 40 characters) and 16 base32 characters of its
 * SHA-256: readable alone, `a-b:c:d` and `a:b-c:d` would share an origin, and
 * a hostile package could pick a name that lands on Kino Files'.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { parseProcessId, type ProcessId } from "../../runtime/types.ts";

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const labels = new Map<ProcessId, string>();

/** The first DNS label of `process`'s origin (at most 57 characters: a label may hold 63). */
export function appLabel(process: ProcessId): string {
  let label = labels.get(process);
  if (label) return label;
  const readable = process.toLowerCase().replace(/[^a-z0-9]+/g, "-").slice(0, 40).replace(/^-+|-+$/g, "");
  const digest = sha256(new TextEncoder().encode(process));
  let bits = 0, value = 0, hash = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && hash.length < 16) {
      hash += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (hash.length === 16) break;
  }
  label = `${readable}-${hash}`;
  if (labels.size > 10_000) labels.clear();
  labels.set(process, label);
  return label;
}

/** The app label of a Host's name (`<label>.localhost`), or null: the node's own host. */
export function appLabelOfHost(hostname: string): string | null {
  if (!hostname.endsWith(".localhost")) return null;
  const label = hostname.slice(0, -".localhost".length);
  return label && !label.includes(".") ? label : null;
}

/**
 * Whether a request for `hostname` can have come to this node: the node
 * listens on loopback, where browsers arrive by `localhost`, an app's
 * `<label>.localhost` or an address. Any other name is DNS rebinding: a
 * foreign page whose name now resolves to 127.0.0.1 is the same origin as
 * what it fetches, so Origin checks pass, and the socket's peer is loopback.
 */
export function isOwnHostname(hostname: string): boolean {
  return hostname === "localhost" || appLabelOfHost(hostname) !== null || hostname.startsWith("[") ||
    /^\d+\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The ":PORT" a Host names ("" for none): apps' origins use the port the browser used. */
function portPart(host: string): string {
  return /:\d+$/.exec(host)?.[0] ?? "";
}

/** `process`'s origin, as seen by a request to `host` (the node's or an app's). */
export function appOrigin(process: ProcessId, host: string): string {
  return `http://${appLabel(process)}.localhost${portPart(host)}`;
}

/** The node's own origin, as seen by a request to `host`. */
export function nodeOrigin(host: string): string {
  return `http://localhost${portPart(host)}`;
}

/** The process whose namespace `path` is in (`/<process>/...`), or null. */
export function processOfPath(path: string): ProcessId | null {
  const first = path.split("/")[1] ?? "";
  try {
    parseProcessId(first);
    return first;
  } catch {
    return null;
  }
}
