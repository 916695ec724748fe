/**
 * Who may call the local endpoints (/rpc:distro:sys/*), which install
 * packages and send messages with the node's authority. Any web page the user
 * visits can make the browser POST to 127.0.0.1, and DNS rebinding can make a
 * foreign name resolve there. So a request is refused unless:
 *
 * - its Host is this node's own loopback address and port (a rebound name
 *   carries its own name in Host);
 * - it carries no Origin but our own, and no Sec-Fetch-Site but "same-origin"
 *   or "none" (browsers add these; the CLI sends neither);
 * - its Content-Type is application/json, which a page can only send after a
 *   CORS preflight that this node never approves.
 *
 * The CLI (`inject-message`, `start-package`) meets all three. Its way into
 * an app's bound paths (owner.ts) carries raw bodies instead of JSON, so it
 * asks for a header of our own in place of the Content-Type: any header a
 * page adds makes the browser ask first (CORS preflight), which this node
 * never approves.
 */
import { HttpError } from "../../runtime/sockets/http1.ts";

const FIX = "the local endpoints serve only the hyperdeno CLI (inject-message, start-package, send, get, ls) " +
  "or a local client that POSTs Content-Type: application/json to Host 127.0.0.1:PORT without a foreign Origin";

export function checkLocalCaller(headers: Headers, port: number) {
  checkLocalOrigin(headers, port);
  const type = headers.get("content-type")?.split(";")[0].trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, `Content-Type must be application/json, not ${type ?? "(none)"}; ${FIX}`);
  }
}

/** Where the CLI reaches an app's bound path as the node's owner: this, then the bound path (owner.ts). */
export const OWNER_PREFIX = "/rpc:distro:sys/app";
/** The header the CLI sends to reach an app's bound paths as the node's owner (owner.ts). */
export const OWNER_HEADER = "x-hyperdeno-cli";

/** Whether a request for an app's path as the owner comes from the CLI: our Host, no foreign site, our header. */
export function checkOwnerCaller(headers: Headers, port: number) {
  checkLocalOrigin(headers, port);
  if (headers.get(OWNER_HEADER) !== "1") {
    throw new HttpError(403, `${OWNER_HEADER}: 1 is missing; ${FIX}`);
  }
}

/** Host is this node's loopback address; no Origin but ours; no cross-site Sec-Fetch-Site. */
function checkLocalOrigin(headers: Headers, port: number) {
  const ours = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  const host = headers.get("host")?.toLowerCase();
  if (!host || !ours.includes(host)) {
    throw new HttpError(403, `Host ${host ?? "(none)"} is not this node (expected ${ours.join(" or ")}); ${FIX}`);
  }
  const origin = headers.get("origin");
  if (origin !== null && !ours.some((o) => origin.toLowerCase() === `http://${o}`)) {
    throw new HttpError(403, `cross-site request refused: Origin ${origin} is not this node; ${FIX}`);
  }
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    throw new HttpError(403, `cross-site request refused: Sec-Fetch-Site ${site}; ${FIX}`);
  }
}

/**
 * Refuses JSON whose structure alone would cost far more to parse than its
 * size suggests (millions of tiny elements, deep nesting). The endpoints take
 * a flat object of strings, and one level of nesting for package files.
 */
export function checkJsonShape(bytes: Uint8Array, maxDepth = 4, maxElements = 100_000) {
  let depth = 0, elements = 0, inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) { // { [
      if (++depth > maxDepth) throw new HttpError(400, `JSON nested deeper than ${maxDepth}`);
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && ++elements > maxElements) { // ,
      throw new HttpError(400, `JSON with more than ${maxElements} elements`);
    }
  }
}
