/**
 * terminal:terminal:sys — where terminal logic lives. Lines typed at the
 * node's console arrive here from terminal:distro:sys; each is a script call,
 * `<script-or-alias> <args>`, run as its own short-lived process with the
 * capabilities its package's scripts.json asked for when it was installed.
 * A script's bare name (`list-files`) runs it when exactly one installed
 * package has a script of that name; when several do, the line is refused
 * with their full names. Resolved at each line from the install records, so
 * it follows installs and removals with nothing to keep in step.
 */
import {
  awaitMessage,
  type Capability,
  getState,
  KERNEL,
  type Message,
  moduleAddress,
  our,
  ourCapabilities,
  println,
  Request,
  setState,
  TERMINAL,
  VFS,
} from "@hyperdeno/process_lib";

const DEFAULT_ALIASES: Record<string, string> = Object.fromEntries(
  [
    "alias",
    "cat",
    "clear-state",
    "echo",
    "help",
    "hi",
    "kfetch",
    "kill",
    "m",
    "net-diagnostics",
    "peer",
    "peers",
    "top",
  ].map((name) => [name, `${name}:terminal:sys`]),
);

interface ScriptConfig {
  root?: boolean;
  public?: boolean;
  request_networking?: boolean;
  request_capabilities?: (string | { process: string; params: unknown })[];
  grant_capabilities?: (string | { process: string; params: unknown })[];
  wit_version?: number;
}

const te = new TextEncoder();
const td = new TextDecoder();

/** The aliases saved by `alias`, over the defaults (so a node keeps new default scripts after an upgrade). */
function loadAliases(): Record<string, string> {
  const s = getState();
  if (!s) return { ...DEFAULT_ALIASES };
  try {
    const saved = JSON.parse(td.decode(s)) as Record<string, string | null>;
    const merged: Record<string, string> = { ...DEFAULT_ALIASES };
    for (const [alias, process] of Object.entries(saved)) {
      if (process === null) delete merged[alias];
      else merged[alias] = process;
    }
    return merged;
  } catch {
    return { ...DEFAULT_ALIASES };
  }
}

export default async function init(_our: string) {
  const me = our();
  let aliases = loadAliases();
  // Saved as changes to the defaults: a removed default is null.
  const save = () => {
    const changes: Record<string, string | null> = {};
    for (const name of Object.keys(DEFAULT_ALIASES)) if (!(name in aliases)) changes[name] = null;
    for (const [name, process] of Object.entries(aliases)) {
      if (DEFAULT_ALIASES[name] !== process) changes[name] = process;
    }
    return setState(te.encode(JSON.stringify(changes)));
  };

  while (true) {
    let msg: Message;
    try {
      msg = await awaitMessage();
    } catch (e) {
      println(`terminal: ${(e as Error).message}`);
      continue;
    }
    if (!msg.isRequest() || msg.source.node !== me.node) continue;
    if (msg.source.process === TERMINAL) {
      try {
        await runLine(msg.text(), aliases);
      } catch (e) {
        println(`${(e as Error).message}`);
      }
      continue;
    }
    // Requests from local processes that hold our capability: alias editing.
    try {
      const cmd = msg.json<unknown>();
      if (cmd === "ListAliases") {
        const width = Math.max(0, ...Object.keys(aliases).map((a) => a.length));
        const lines = Object.entries(aliases).sort().map(([a, p]) => `  ${a.padEnd(width)}  ${p}`);
        println(`aliases:\n${lines.join("\n")}`);
      } else if (cmd && typeof cmd === "object" && "EditAlias" in cmd) {
        const { alias, process } = (cmd as { EditAlias: { alias: string; process: string | null } }).EditAlias;
        if (!/^[a-z0-9-_]+$/i.test(alias)) {
          println(`alias: "${alias}" is not a valid alias name`);
        } else if (process === null) {
          if (alias in aliases) {
            delete aliases[alias];
            await save();
            println(`alias ${alias} removed`);
          } else println(`alias: no alias ${alias}`);
        } else if (process.split(":").length !== 3) {
          println(`alias: "${process}" is not a script id (name:package:publisher)`);
        } else {
          aliases = { ...aliases, [alias]: process };
          await save();
          println(`alias ${alias} set to ${process}`);
        }
      }
    } catch (e) {
      println(`terminal: bad request from ${msg.source}: ${(e as Error).message}`);
    }
  }
}

async function runLine(line: string, aliases: Record<string, string>) {
  const trimmed = line.trim();
  const space = trimmed.search(/\s/);
  const head = space < 0 ? trimmed : trimmed.slice(0, space);
  const args = space < 0 ? "" : trimmed.slice(space + 1).trim();
  const script = aliases[head] ?? (head.split(":").length === 3 ? head : await installedScript(head));
  if (!script) {
    throw new Error(
      `'${head}' is not a script or an alias. Try: ${
        Object.keys(aliases).sort().join(", ")
      }, an installed script's name, or name:package:publisher`,
    );
  }
  await runScript(script, args);
}

/** Where the installer records each package's scripts (runtime/packages/install.ts SCRIPT_RECORDS_DRIVE). */
const SCRIPT_RECORDS = "/distro:sys/scripts";

/** `name:package:publisher` for a bare script name that one installed package has; null when none has it. */
async function installedScript(name: string): Promise<string | null> {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return null;
  const dir = await vfsAsk<{ ReadDir?: { path: string }[] }>({ path: SCRIPT_RECORDS, action: "ReadDir" });
  const owners: string[] = [];
  for (const e of dir.ReadDir ?? []) {
    const pkg = e.path.slice(e.path.lastIndexOf("/") + 1).replace(/\.json$/, "");
    const r = await vfsAsk<{ ReadToString?: string }>({ path: `/${e.path}`, action: "ReadToString" });
    try {
      const all = JSON.parse(r.ReadToString ?? "{}") as Record<string, unknown>;
      if (`${name}.js` in all || `${name}.wasm` in all) owners.push(`${name}:${pkg}`);
    } catch { /* a record we cannot read names nothing */ }
  }
  if (owners.length > 1) {
    throw new Error(
      `'${name}' is a script of ${owners.length} packages: type one in full (${owners.join(", ")}), ` +
        `or make one the default: alias ${name} ${owners[0]}`,
    );
  }
  return owners[0] ?? null;
}

async function vfsAsk<T>(request: unknown): Promise<T> {
  const resp = await Request.to(moduleAddress(our().node, VFS)).json(request).sendAndAwaitResponse(5);
  return resp.json<T>();
}

const kernelAddress = () => moduleAddress(our().node, KERNEL);

async function kernel(cmd: unknown, blob?: Uint8Array): Promise<unknown> {
  const r = Request.to(kernelAddress()).json(cmd);
  if (blob) r.blobBytes(blob);
  const resp = await r.sendAndAwaitResponse(10);
  return resp.json();
}

async function runScript(script: string, args: string) {
  const [name, pkgName, publisher] = script.split(":");
  const pkg = `${pkgName}:${publisher}`;
  const config = await scriptConfig(pkg, name);
  const node = our().node;
  const id = `${name}-${Math.floor(Math.random() * 1e9).toString(36)}:${pkg}`;
  const addr = `${node}@${id}`;
  const caps: Capability[] = [];
  if (config.root) caps.push(...await ourCapabilities());
  if (config.request_networking) caps.push({ issuer: moduleAddress(node, KERNEL), params: '"network"' });
  for (const c of config.request_capabilities ?? []) {
    if (typeof c === "string") caps.push({ issuer: `${node}@${c}`, params: '"messaging"' });
    else caps.push({ issuer: `${node}@${c.process}`, params: JSON.stringify(c.params) });
  }
  const init = await kernel({
    InitializeProcess: {
      id,
      wasm_bytes_handle: `${pkg}/pkg/${name}.js`,
      wit_version: config.wit_version ?? null,
      on_exit: "None",
      initial_capabilities: caps,
      public: Boolean(config.public),
    },
  });
  if (init !== "InitializedProcess") throw new Error(`could not start ${script}: ${JSON.stringify(init)}`);
  for (const g of config.grant_capabilities ?? []) {
    const [target, params] = typeof g === "string" ? [g, '"messaging"'] : [g.process, JSON.stringify(g.params)];
    Request.to(kernelAddress()).json({
      GrantCapabilities: { target, capabilities: [{ issuer: addr, params }] },
    }).send();
  }
  const run = await kernel({ RunProcess: id });
  if (run !== "StartedProcess") throw new Error(`could not run ${script}: ${JSON.stringify(run)}`);
  // The capabilities to message the script (ours, and those of grant_capabilities) go when it ends.
  Request.to(addr).body(args).send();
}

/**
 * What the script was granted when its package was installed. The installer
 * records it in the runtime's own drive; the package's pkg/scripts.json is the
 * package's to rewrite, so it is never trusted for permissions.
 */
async function scriptConfig(pkg: string, name: string): Promise<ScriptConfig> {
  const path = `/distro:sys/scripts/${pkg}.json`;
  const r = await vfsAsk<{ ReadToString?: string; Err?: unknown }>({ path, action: "ReadToString" });
  if (!r.ReadToString) {
    throw new Error(`no scripts were installed with package ${pkg} (install it again to run its scripts)`);
  }
  const all = JSON.parse(r.ReadToString) as Record<string, ScriptConfig>;
  const config = all[`${name}.js`] ?? all[`${name}.wasm`];
  if (!config) throw new Error(`${name}:${pkg} is not a script: its package installed no ${name}.js script`);
  return config;
}
