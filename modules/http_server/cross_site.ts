/**
 * The server's refusal of cross-site requests to anything a cookie or the
 * loopback address opens (authenticated and local_only paths, WebSockets,
 * login, logout), so no app has to remember to. A browser's cookie goes with
 * requests another page starts: a form POST, a `no-cors` fetch from any port
 * of localhost (the same site, so even SameSite=Lax cookies go), an app's
 * page on its own origin. Browsers say who started a request:
 *
 * - `Sec-Fetch-Site` (Chromium, Firefox, Safari): only `same-origin` and
 *   `none` (the user typed it, a bookmark) pass, and a top-level GET
 *   navigation from elsewhere (a link to the page is fine; its scripts then
 *   run on the page's own origin);
 * - `Origin`, which browsers send on every POST and CORS request: only the
 *   request's own origin passes (`null`, a sandboxed page's, does not).
 *
 * A client that sends neither (curl, the CLI, Deno's fetch) is not a browser
 * page: it holds whatever cookie it sends.
 */
import type { RequestHead } from "../../runtime/sockets/http1.ts";

/** Why a browser must not make this request from where it came, or null. */
export function crossSiteRefusal(head: RequestHead, host: string): string | null {
  const h = head.headers;
  const origin = h.get("origin");
  const site = h.get("sec-fetch-site");
  const nav = h.get("sec-fetch-mode") === "navigate" && h.get("sec-fetch-dest") === "document" &&
    (head.method === "GET" || head.method === "HEAD");
  if (origin !== null && !nav) {
    const o = origin.toLowerCase();
    const own = `http://${host.toLowerCase()}`;
    if (o !== own && o !== own.replace("http:", "https:")) {
      return `cross-site request refused: Origin ${origin} is not ${own}`;
    }
  }
  if (site !== null && site !== "same-origin" && site !== "none" && !nav) {
    return `cross-site request refused: Sec-Fetch-Site ${site} (only this origin's pages, or a link to a page)`;
  }
  return null;
}

/** Whether a browser sent the request (it says where from); scripts and the CLI send neither header. */
export function fromBrowser(head: RequestHead): boolean {
  return head.headers.has("origin") || head.headers.has("sec-fetch-site");
}

/** A browser navigating (a link, the address bar), as opposed to a script's fetch or a subresource. */
export function isNavigation(head: RequestHead): boolean {
  const mode = head.headers.get("sec-fetch-mode");
  if (mode !== null) return mode === "navigate";
  // Browsers without Fetch Metadata: what they ask a page for.
  return (head.headers.get("accept") ?? "").includes("text/html");
}
