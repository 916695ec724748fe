/** http-client benchmarks from inside a process, as an app would use it. */
import { awaitMessage, httpClient, Response } from "@hyperdeno/process_lib";

/** Runs `n` operations with up to `window` in flight. */
async function windowed(n: number, window: number, op: (i: number) => Promise<unknown>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(window, n) }, async () => {
    while (next < n) await op(next++);
  });
  await Promise.all(lanes);
}

async function requests(url: string, n: number, window: number) {
  let bytes = 0;
  const t = performance.now();
  await windowed(n, window, async () => {
    const r = await httpClient.fetch(url, { timeout: 60 });
    if (r.status !== 200) throw new Error(`status ${r.status}`);
    bytes += r.body.length;
  });
  return { ms: performance.now() - t, bytes };
}

/** One push after another, each waiting for the server's echo: round trip times in ms. */
async function wsRoundTrips(url: string, n: number) {
  await httpClient.openWsConnection(url, null, 1);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    httpClient.sendWsClientPush(1, "Text", `ping ${i}`);
    while (true) {
      const ev = httpClient.wsEvent(await awaitMessage());
      if (ev && "WebSocketPush" in ev) break;
    }
    times.push(performance.now() - t);
  }
  await httpClient.closeWsConnection(1);
  return { times };
}

export default async function init(_our: string) {
  while (true) {
    const msg = await awaitMessage();
    if (!msg.isRequest() || httpClient.wsEvent(msg)) continue;
    const cmd = msg.json<{ Http?: { url: string; n: number; window: number }; Ws?: { url: string; n: number } }>();
    const result = cmd.Http
      ? await requests(cmd.Http.url, cmd.Http.n, cmd.Http.window)
      : await wsRoundTrips(cmd.Ws!.url, cmd.Ws!.n);
    Response.to(msg).json(result).send();
  }
}
