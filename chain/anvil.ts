/**
 * The dev chain: anvil, from the npm package that ships its binary (`@foundry-rs/anvil-linux-amd64`), found in
 * Deno's npm cache (npm_package.ts). HYPERDENO_ANVIL names another binary.
 */
import { PortInUse } from "../runtime/errors.ts";
import { npmPackageDir } from "./npm_package.ts";

export const ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64@1.7.1";
export const DEFAULT_CHAIN_PORT = 8545;

/** The anvil binary's path. */
export async function anvilPath(): Promise<string> {
  const given = envAnvil();
  if (given) return given;
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw new Error(
      `no anvil package for ${Deno.build.os}/${Deno.build.arch}: install foundry and set HYPERDENO_ANVIL`,
    );
  }
  return `${await npmPackageDir(ANVIL_PACKAGE)}/bin/anvil`;
}

function envAnvil(): string | undefined {
  try {
    return Deno.env.get("HYPERDENO_ANVIL") || undefined;
  } catch {
    return undefined;
  }
}

/** Whether a JSON-RPC endpoint answers eth_chainId at `url` within `ms`. */
export async function chainAnswers(url: string, ms = 1000): Promise<boolean> {
  try {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(ms),
    });
    const j = await r.json();
    return typeof j?.result === "string";
  } catch {
    return false;
  }
}

export const localRpc = (port: number) => `http://127.0.0.1:${port}`;

/**
 * anvil under a small sh that ends it when our end of its stdin closes: at stop(), and also when this process dies
 * without stopping it (kill -9), so a node never leaves an orphaned chain on its port.
 */
const WATCHED = `exec 3<&0; "$0" "$@" 3<&- & a=$!; (read _ <&3; kill $a) >/dev/null 2>&1 & exec 3<&-; wait $a`;

/**
 * Reads anvil's output for the line it prints once its port is bound, then keeps reading (anvil logs every call, and
 * a full pipe would stall it).
 */
function listening(out: ReadableStream<Uint8Array>): { seen: boolean } {
  const state = { seen: false };
  (async () => {
    const dec = new TextDecoder();
    let tail = "";
    for await (const chunk of out) {
      if (state.seen) continue;
      tail = (tail + dec.decode(chunk, { stream: true })).slice(-4096);
      if (/Listening on /.test(tail)) state.seen = true;
    }
  })().catch(() => {});
  return state;
}

/** A running anvil this process started; stop() ends it. */
export class Anvil {
  private constructor(
    readonly port: number,
    private proc: Deno.ChildProcess,
    private stdin: WritableStreamDefaultWriter<Uint8Array>,
  ) {}

  get url(): string {
    return localRpc(this.port);
  }

  get pid(): number {
    return this.proc.pid;
  }

  /**
   * Starts anvil on 127.0.0.1:`port` (with anvil's `args`, e.g. another --chain-id) and waits until it answers.
   * It counts as started only once it printed that it listens: a chain that answers on the port meanwhile may be
   * another node's anvil, started a moment before (ours then exits with the port in use: PortInUse).
   */
  static async start(port: number, args: string[] = []): Promise<Anvil> {
    const bin = await anvilPath();
    const proc = new Deno.Command("/bin/sh", {
      args: ["-c", WATCHED, bin, "--port", String(port), "--host", "127.0.0.1", ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const anvil = new Anvil(port, proc, proc.stdin.getWriter());
    let exited = false;
    const status = proc.status.then((s) => (exited = true, s));
    const err = new Response(proc.stderr).text();
    const bound = listening(proc.stdout);
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      if (bound.seen && await chainAnswers(anvil.url, 500)) return anvil;
      if (exited) {
        const text = (await err).trim();
        await status;
        if (/address already in use|Address in use/i.test(text)) {
          throw new PortInUse(`port ${port} is in use by something that is not a chain; pick another chain port`);
        }
        throw new Error(`anvil exited at start: ${text.slice(0, 300)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    await anvil.stop();
    throw new Error(`anvil did not answer on port ${port} within 10 s`);
  }

  async stop() {
    await this.stdin.close().catch(() => {});
    await this.proc.status;
  }
}
