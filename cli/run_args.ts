/** How one hyperdeno command starts another: this Deno, the node's permissions, main.ts. */
export const RUN_ARGS = [
  "run",
  "--unstable-worker-options",
  "--v8-flags=--disallow-code-generation-from-strings",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-run",
  "--allow-sys",
  new URL("../main.ts", import.meta.url).pathname,
];
