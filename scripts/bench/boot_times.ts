/**
 * `deno task node` (boot-fake-node) to "node ready" on a new home, then twice resumed on it, beside `deno run
 * hello.ts`: the kernel and apps suites' boot row. The node boots on the caller's chain under a name of this run, never
 * the defaults (8545, fake.dev) a developer's own node may be using.
 */
import { RUN_ARGS } from "../../cli/run_args.ts";
import { freePort } from "../../runtime/free_port.ts";
import { median } from "./util.ts";

const HELLO = new URL("./hello.ts", import.meta.url).pathname;

/** Wall time from starting a command to a line matching `ready` on its output. */
async function timeToLine(args: string[], ready: RegExp): Promise<number> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), { args, stdin: "piped", stdout: "piped", stderr: "null" }).spawn();
  let out = "";
  const dec = new TextDecoder();
  for await (const chunk of child.stdout) {
    out += dec.decode(chunk, { stream: true });
    if (ready.test(out)) break;
  }
  const ms = performance.now() - t0;
  child.kill("SIGINT");
  await child.status;
  return ms;
}

export async function bootTimes(chainPort: number): Promise<{ first: number; resume: number; hello: number }> {
  const home = await Deno.makeTempDir({ prefix: "hyperdeno-boot-" });
  await Deno.remove(home);
  const args = [
    ...RUN_ARGS,
    "boot-fake-node",
    "-f",
    `boot-bench-${Deno.pid}.dev`,
    "-p",
    String(freePort()),
    "-o",
    home,
    "-c",
    String(chainPort),
    "--persist",
  ];
  const first = await timeToLine(args, /node ready/);
  const resume = median([await timeToLine(args, /node ready/), await timeToLine(args, /node ready/)]);
  await Deno.remove(home, { recursive: true });
  const hello: number[] = [];
  for (let i = 0; i < 3; i++) hello.push(await timeToLine(["run", HELLO], /hello/));
  return { first, resume, hello: median(hello) };
}
