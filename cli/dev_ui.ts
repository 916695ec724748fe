/**
 * `dev-ui` (d): the package's UI on Vite's dev server with hot reloading (`npm run dev` in ui/), as `kit dev-ui`;
 * the node at -p is passed as VITE_NODE_URL, where ui/vite.config.ts proxies the process's paths.
 *
 * The page is opened on the app's origin at the dev server's port, http://<label>.localhost:<ui-port>/<process>/:
 * cookies do not depend on the port, so the app's session cookie, which logging in through the node gives the app's
 * origin, goes to the dev server too, which passes it (and the browser's Host and Origin, unchanged) to the node.
 * The node sees its app's origin, and nothing of its cross-site refusal is relaxed for the dev server.
 */
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { readPackageDir } from "./package_dir.ts";
import { absolutePath } from "./api_files.ts";
import { hasNpmUi, installUi } from "./vite_ui.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import type { ProcessId } from "../runtime/types.ts";
import { BuildFailed } from "../runtime/errors.ts";

export const spec: CommandSpec = {
  name: "dev-ui",
  summary:
    "Start the web UI development server with hot reloading (same as `cd ui && npm ci && npm run dev`), proxied to the node",
  usage: "hyperdeno dev-ui [OPTIONS] [DIR]",
  positionals: [{
    name: "[DIR]",
    help: "The package directory whose UI to serve (must contain `ui/package.json`, as `new --ui` makes)",
    default: ".",
  }],
  flags: [
    { long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "localhost node port to proxy to" },
    {
      long: "release",
      bool: true,
      help: "If set, serve a production build (`npm run build`, then `npm run preview`, with the same proxy)",
    },
    { long: "skip-deps-check", short: "s", bool: true, help: "If set, do not check that ui/node_modules is installed" },
    { long: "ui-port", value: "PORT", default: "5173", help: "Port of the dev server (Vite's default)" },
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const nodePort = portFlag(flags.port);
  const uiPort = portFlag(flags["ui-port"], "--ui-port");
  const pkg = readPackageDir(positionals[0]);
  const dir = absolutePath(pkg.dir);
  if (!hasNpmUi(dir)) {
    throw new UsageError(
      `${pkg.dir} has no ui/package.json: dev-ui serves a Vite UI, as \`hyperdeno new --ui\` makes; a plain ui/ needs no dev server (build, start-package, reload)`,
    );
  }
  const say = (line: string) => console.log(line);
  if (!flags["skip-deps-check"]) await installUi(dir, say);
  try {
    Deno.statSync(`${dir}/ui/node_modules`);
  } catch {
    throw new BuildFailed(`${pkg.dir}/ui/node_modules is not installed: run dev-ui without --skip-deps-check, online`);
  }
  const process = `${mainProcess(dir)}:${pkg.packageId}` as ProcessId;
  const node = `http://localhost:${nodePort}`;
  say(
    `dev-ui: open http://${appLabel(process)}.localhost:${uiPort}/${process}/ (proxied to the node at ${node})\n` +
      `  log in through the node first: ${node}/${process}/ gives the app's origin the session the dev server shares`,
  );
  const env = { VITE_NODE_URL: node };
  const port = ["--", "--port", String(uiPort), "--strictPort"];
  if (flags.release) {
    const built = await npmRun(dir, ["run", "build"], env);
    if (built !== 0) throw new BuildFailed("ui: npm run build failed (its errors above): fix ui/ and run dev-ui again");
    return await npmRun(dir, ["run", "preview", ...port], env);
  }
  return await npmRun(dir, ["run", "dev", ...port], env);
}

/** The package's main process: the first of pkg/manifest.json, whose path ui/vite.config.ts serves under. */
function mainProcess(dir: string): string {
  try {
    const name = JSON.parse(Deno.readTextFileSync(`${dir}/pkg/manifest.json`))[0]?.process_name;
    if (typeof name === "string" && name) return name;
  } catch { /* said below */ }
  throw new UsageError(`${dir}/pkg/manifest.json names no process: the UI is served under its first process's path`);
}

/**
 * Node runs npm in a process group of its own (`detached`), so a stop reaches the whole group: npm's `sh -c vite`
 * passes no signal on, and Vite would outlive it, holding its port. Ctrl-C reaches this wrapper and us (the
 * terminal's group); a SIGINT or SIGTERM sent to us alone is passed to the wrapper.
 */
const GROUP_RUNNER = `
const { spawn } = require("node:child_process");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const child = spawn(npm, process.argv.slice(1), { stdio: "inherit", detached: process.platform !== "win32" });
const stop = (signal) => { try { process.kill(-child.pid, signal); } catch { child.kill(signal); } };
for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => stop(s));
child.on("error", (e) => { console.error(e.message); process.exit(127); });
child.on("exit", (code, signal) => { stop("SIGTERM"); process.exit(code ?? (signal ? 0 : 1)); });
`;

/** Runs npm in ui/ with the terminal's input and output until it ends (see GROUP_RUNNER for stopping it). */
async function npmRun(dir: string, args: string[], env: Record<string, string>): Promise<number> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("node", { args: ["-e", GROUP_RUNNER, ...args], cwd: `${dir}/ui`, env }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError("Node.js is not installed: install Node.js 20 or later (with npm) to serve the UI");
    }
    throw e;
  }
  let stopped = false;
  const stop = (signal: Deno.Signal) => () => {
    stopped = true;
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, stop(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  try {
    const status = await child.status;
    return stopped ? 0 : status.code;
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  }
}
