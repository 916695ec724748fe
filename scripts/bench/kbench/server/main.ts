/** Answers every request with its own body (and blob, by inheritance). */
import { awaitMessage, Response } from "@hyperdeno/process_lib";

export default async function init(_our: string) {
  while (true) {
    const msg = await awaitMessage().catch(() => null);
    if (!msg?.isRequest()) continue;
    // "sink": acknowledge without sending the blob back (one-way streams).
    if (msg.text() === "sink") Response.new().body("ok").send();
    else Response.new().body(msg.body()).inherit(true).send();
  }
}
