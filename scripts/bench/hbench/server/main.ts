/**
 * The HTTP benchmark's app: /hello answers at once, /upload takes any body
 * (over 64 MiB it arrives as a spool file, removed after the answer), and a
 * client on /ws that sends "N" gets N pushes back as fast as they go.
 */
import {
  bindHttpPath,
  bindWsPath,
  httpServerRequest,
  incomingHttpRequest,
  requests,
  sendResponse,
  sendWsPush,
  wsMessageBytes,
} from "@hyperdeno/process_lib";

export default async function init(_our: string) {
  await bindHttpPath("/hello", false, false);
  await bindHttpPath("/upload", false, false);
  await bindWsPath("/ws", false, false);
  const hello = new TextEncoder().encode("hello");
  const text = { "content-type": "text/plain" };
  for await (const msg of requests()) {
    const server = httpServerRequest(msg);
    if (!server) continue;
    if ("WebSocketPush" in server) {
      const n = Number(new TextDecoder().decode(wsMessageBytes()));
      for (let i = 0; i < n; i++) sendWsPush(server.WebSocketPush.channel_id, "Text", "m");
      continue;
    }
    if (!("Http" in server)) continue;
    const req = incomingHttpRequest(msg)!;
    if (req.path() === "/upload") sendResponse(200, text, req.body_file ? "spooled" : "inline");
    else sendResponse(200, text, hello);
  }
}
