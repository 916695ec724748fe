/**
 * The book's tests.toml (kit run-tests): the config file is found as kit
 * finds it (a .toml file, or DIR/tests.toml, or DIR/test/tests.toml), parsed,
 * and checked, with paths made absolute against the file's folder.
 */
import { parse } from "smol-toml";
import { UsageError } from "./flags.ts";
import { resolve as resolvePath } from "node:path";
import { absolutePath } from "./api_files.ts";

export interface TestNodeConfig {
  port: number;
  home: string;
  fake_node_name: string;
  password: string | null;
  runtime_verbosity: number;
}

export interface TestConfig {
  dependency_package_paths: string[];
  setup_packages: { path: string; run: boolean }[];
  setup_scripts: string[];
  test_package_paths: string[];
  test_scripts: string[];
  timeout_secs: number;
  fakechain_router: number;
  nodes: TestNodeConfig[];
}

export interface TestsFile {
  path: string;
  dir: string;
  /** The main.ts to run nodes with: this checkout's, or a RepoPath's. */
  runtime: string | null;
  persist_home: boolean;
  always_print_node_output: boolean;
  tests: TestConfig[];
}

export function findTestsFile(given: string): string {
  const candidates = given.endsWith(".toml") ? [given] : [`${given}/tests.toml`, `${given}/test/tests.toml`];
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isFile) return absolutePath(c);
    } catch { /* next */ }
  }
  throw new UsageError(
    `no tests.toml at ${candidates.join(" or ")}: give a tests .toml file, or a package folder with test/tests.toml`,
  );
}

export function readTestsFile(path: string): TestsFile {
  const dir = path.slice(0, path.lastIndexOf("/"));
  let raw: Record<string, unknown>;
  try {
    raw = parse(Deno.readTextFileSync(path)) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`${path} is not valid TOML: ${(e as Error).message.split("\n")[0]}`);
  }
  const at = (what: string) => `${path}: ${what}`;
  const resolve = (p: string) => p.startsWith("~/") ? `${Deno.env.get("HOME")}${p.slice(1)}` : resolvePath(dir, p);
  let runtime: string | null = null;
  const rt = raw.runtime as Record<string, unknown> | undefined;
  if (rt && typeof rt === "object" && "RepoPath" in rt) runtime = `${resolve(String(rt.RepoPath))}/main.ts`;
  const tests = raw.tests;
  if (!Array.isArray(tests) || tests.length === 0) throw new UsageError(at("needs at least one [[tests]] table"));
  return {
    path,
    dir,
    runtime,
    persist_home: Boolean(raw.persist_home),
    always_print_node_output: Boolean(raw.always_print_node_output),
    tests: tests.map((t, i) => readTest(t as Record<string, unknown>, (w) => at(`tests[${i}].${w}`), resolve)),
  };
}

function readTest(
  t: Record<string, unknown>,
  at: (what: string) => string,
  resolve: (p: string) => string,
): TestConfig {
  const strings = (k: string): string[] => {
    const v = t[k] ?? [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
      throw new UsageError(at(`${k} must be a list of strings`));
    }
    return v as string[];
  };
  const int = (v: unknown, what: string, min: number): number => {
    if (!Number.isInteger(Number(v)) || Number(v) < min) {
      throw new UsageError(at(`${what} must be an integer >= ${min}`));
    }
    return Number(v);
  };
  const setup = (t.setup_packages ?? []) as unknown[];
  if (!Array.isArray(setup)) throw new UsageError(at("setup_packages must be a list of { path, run }"));
  const nodes = t.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) throw new UsageError(at("nodes needs at least one [[tests.nodes]]"));
  return {
    dependency_package_paths: strings("dependency_package_paths").map(resolve),
    setup_packages: setup.map((s, i) => {
      const o = s as { path?: unknown; run?: unknown };
      if (typeof o?.path !== "string") throw new UsageError(at(`setup_packages[${i}] needs a path`));
      return { path: resolve(o.path), run: Boolean(o.run) };
    }),
    setup_scripts: strings("setup_scripts"),
    test_package_paths: strings("test_package_paths").map(resolve),
    test_scripts: strings("test_scripts"),
    timeout_secs: int(t.timeout_secs ?? 5, "timeout_secs", 1),
    fakechain_router: int(t.fakechain_router ?? 8545, "fakechain_router", 1),
    nodes: nodes.map((n, i) => {
      const o = n as Record<string, unknown>;
      if (typeof o.home !== "string") throw new UsageError(at(`nodes[${i}].home must be a path`));
      if (typeof o.fake_node_name !== "string") throw new UsageError(at(`nodes[${i}].fake_node_name must be a string`));
      return {
        port: int(o.port, `nodes[${i}].port`, 1),
        home: resolve(o.home),
        fake_node_name: o.fake_node_name.includes(".") ? o.fake_node_name : `${o.fake_node_name}.dev`,
        password: typeof o.password === "string" ? o.password : null,
        runtime_verbosity: int(o.runtime_verbosity ?? 0, `nodes[${i}].runtime_verbosity`, 0),
      };
    }),
  };
}
