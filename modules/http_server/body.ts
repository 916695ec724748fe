/** Reading a request body with a limit that holds while the bytes arrive. */
import { HttpError } from "../../runtime/sockets/http1.ts";
import { joinBytes } from "../../runtime/bytes.ts";

/**
 * The whole body, refused with 413 as soon as it is known to pass `max`:
 * at once for a Content-Length over it, or at the piece that crosses it.
 */
export async function readLimited(req: Request, max: number, what: string): Promise<Uint8Array> {
  const tooBig = () => new HttpError(413, `request body over the ${max}-byte limit of ${what}`);
  const cl = req.headers.get("content-length");
  if (cl !== null && Number(cl) > max) throw tooBig();
  if (!req.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (let n = await reader.read(); !n.done; n = await reader.read()) {
    total += n.value.length;
    if (total > max) {
      reader.cancel().catch(() => {});
      throw tooBig();
    }
    parts.push(n.value);
  }
  return parts.length === 1 ? parts[0] : joinBytes(parts);
}
