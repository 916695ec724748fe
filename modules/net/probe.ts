/**
 * Is a node running as `name`? Only the node holding its networking key can answer a handshake under it, so a
 * connection that merely opens (another program on a port the node used to have) proves nothing: the probe reads
 * the answerer's signed handshake payload (handshake.ts answersAs) and hangs up.
 */
import { openWs, TcpFrames } from "./frames.ts";
import { answersAs } from "./handshake.ts";
import { withTimeout } from "../../runtime/timeout.ts";
import { HANDSHAKE_TIMEOUT_MS } from "./mod.ts";

/** The transport and port on which `name`'s node proved it holds `key`, or null. */
export async function provesName(
  name: string,
  key: Uint8Array,
  ip: string,
  ports: { tcp?: number; ws?: number },
  timeoutMs = HANDSHAKE_TIMEOUT_MS,
): Promise<string | null> {
  if (ports.tcp) {
    try {
      const conn = await withTimeout(Deno.connect({ hostname: ip, port: ports.tcp }), timeoutMs);
      if (await answersAs(new TcpFrames(conn), name, key, timeoutMs)) return `tcp port ${ports.tcp}`;
    } catch { /* nothing listens there */ }
  }
  if (ports.ws) {
    try {
      if (await answersAs(await openWs(`ws://${ip}:${ports.ws}/`, timeoutMs), name, key, timeoutMs)) {
        return `ws port ${ports.ws}`;
      }
    } catch { /* nothing listens there */ }
  }
  return null;
}
