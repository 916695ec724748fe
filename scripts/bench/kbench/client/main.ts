/**
 * Drives the kernel benchmarks from inside a process, so the clock runs
 * where a real process would feel the latency.
 */
import {
  awaitMessage,
  KERNEL,
  type Message,
  moduleAddress,
  our,
  Request,
  Response,
  spawn,
  timer,
} from "@hyperdeno/process_lib";

const body = new TextEncoder().encode("ping");

async function pipelined(target: string, n: number, blobBytes: number, text?: string): Promise<number> {
  // Bytes of every value, as a file's would be (integer arrays on the wire cost two bytes for each over 127).
  const blob = blobBytes ? new Uint8Array(blobBytes).map((_, i) => (i * 2654435761) >>> 24) : null;
  const b = text ? new TextEncoder().encode(text) : body;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = Request.to(target).body(b).expectsResponse(120);
    if (blob) r.blobBytes(blob);
    r.send();
  }
  for (let got = 0; got < n;) {
    const m = await awaitMessage();
    if (m.isResponse()) got++;
  }
  return performance.now() - t0;
}

async function pingPong(target: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await Request.to(target).body(body).sendAndAwaitResponse(60);
    times.push(performance.now() - t0);
  }
  return times;
}

async function spawnTimes(n: number, keep: boolean, gapMs: number): Promise<{ times: number[]; ids: string[] }> {
  const times: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    if (gapMs) await timer.setAndAwaitTimer(gapMs);
    const t0 = performance.now();
    const id = await spawn(null, `${our().packageId()}/pkg/idle.js`, "None", [], [], false);
    let up: Message;
    do up = await awaitMessage(); while (up.text() !== "up");
    times.push(performance.now() - t0);
    ids.push(id);
    if (!keep) {
      await Request.to(moduleAddress(our().node, KERNEL)).json({ KillProcess: id }).sendAndAwaitResponse(5).catch(
        () => {},
      );
    }
  }
  return { times, ids };
}

export default async function init(_our: string) {
  while (true) {
    const msg = await awaitMessage().catch(() => null);
    if (!msg?.isRequest()) continue;
    const cmd = msg.json<
      Record<string, { n: number; target?: string; blob?: number; keep?: boolean; gap?: number; body?: string }>
    >();
    const [name, a] = Object.entries(cmd)[0];
    const target = a.target ?? `${our().node}@server:kbench:bench.os`;
    let result: unknown;
    if (name === "Pipelined") result = { ms: await pipelined(target, a.n, a.blob ?? 0, a.body) };
    else if (name === "PingPong") result = { times: await pingPong(target, a.n) };
    else if (name === "Spawn") result = await spawnTimes(a.n, Boolean(a.keep), a.gap ?? 0);
    Response.to(msg).json(result).send();
  }
}
