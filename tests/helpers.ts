/** Where the tests' packages live; the helpers that boot nodes are runtime/testing.ts. */
export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
export const PACKAGES = new URL("../packages/", import.meta.url).pathname;

/** Runs a bash script (with `args` as $0, $1, ...) and returns its stdout: how tests read /proc without --allow-all. */
export async function sh(script: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("bash", { args: ["-c", script, ...args], stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout);
}

/** The OS processes of every process host this test process started. */
export async function childHosts(): Promise<number[]> {
  const out = await sh(
    `for c in $(cat /proc/$0/task/*/children); do echo "$c $(tr '\\0' ' ' < /proc/$c/cmdline)"; done`,
    String(Deno.pid),
  );
  return out.split("\n").filter((l) => l.includes("/runtime/host/host.ts")).map((l) => Number(l.split(" ")[0]));
}
