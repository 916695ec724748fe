/** Spawned by the client: tells its parent it is up, then waits forever. */
import { awaitMessage, our, Request } from "@hyperdeno/process_lib";

export default async function init(_our: string) {
  Request.to(`${our().node}@client:kbench:bench.os`).body("up").send();
  while (true) await awaitMessage().catch(() => null);
}
