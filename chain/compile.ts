/**
 * Compiles contracts/*.sol with solc's WebAssembly build (npm `solc`, no compiler download), with OpenZeppelin's
 * contracts (npm `@openzeppelin/contracts`, for ERC-721, the ERC-1967 proxy, CREATE2 and signature checks) into
 * contracts/out/<Contract>.json: { abi, bytecode, deployedBytecode }. `deno task contracts` rewrites them;
 * `--check` exits 1 when the committed artifacts differ from a fresh compile (tests/chain_contract_test.ts
 * runs the same comparison).
 */
import solc from "solc";
import { npmPackageDir } from "./npm_package.ts";

const CONTRACTS = new URL("../contracts/", import.meta.url);
export const ARTIFACTS = new URL("out/", CONTRACTS);
export const OPENZEPPELIN = "@openzeppelin/contracts@5.4.0";

export interface Artifact {
  abi: unknown[];
  bytecode: `0x${string}`;
  deployedBytecode: `0x${string}`;
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}

/** Every contract in contracts/*.sol, compiled; throws with solc's messages on an error. */
export async function compileContracts(): Promise<Record<string, Artifact>> {
  const oz = await npmPackageDir(OPENZEPPELIN);
  const sources: Record<string, { content: string }> = {};
  for (const e of [...Deno.readDirSync(CONTRACTS)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isFile && e.name.endsWith(".sol")) {
      sources[e.name] = { content: Deno.readTextFileSync(new URL(e.name, CONTRACTS)) };
    }
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      // anvil's default hardfork runs it; a fixed target keeps the bytecode the same across solc defaults.
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
      metadata: { bytecodeHash: "none" },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const out = JSON.parse(
    solc.compile(JSON.stringify(input), { import: (path: string) => findImport(path, oz) }),
  ) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length) throw new Error(`solc:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  const artifacts: Record<string, Artifact> = {};
  // Our files only: OpenZeppelin's libraries are compiled into ours, not installed on their own.
  for (const file of Object.keys(out.contracts).filter((f) => f in sources).sort()) {
    for (const [name, c] of Object.entries(out.contracts[file])) {
      if (!c.evm.bytecode.object || !c.abi.length) continue; // an interface, or a library of constants
      artifacts[name] = {
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      };
    }
  }
  return artifacts;
}

function findImport(path: string, openzeppelin: string) {
  try {
    const oz = path.match(/^@openzeppelin\/contracts\/([\w/.-]+\.sol)$/);
    if (oz && !oz[1].includes("..")) return { contents: Deno.readTextFileSync(`${openzeppelin}/${oz[1]}`) };
    return { contents: Deno.readTextFileSync(new URL(path.replace(/^\.\//, ""), CONTRACTS)) };
  } catch {
    return { error: `not found: ${path}` };
  }
}

export function artifactText(a: Artifact): string {
  return JSON.stringify(a, null, 2) + "\n";
}

/** Names of artifacts whose committed file differs from `fresh` (or is missing), and stale files. */
export function staleArtifacts(fresh: Record<string, Artifact>): string[] {
  const stale: string[] = [];
  for (const [name, a] of Object.entries(fresh)) {
    let committed = "";
    try {
      committed = Deno.readTextFileSync(new URL(`${name}.json`, ARTIFACTS));
    } catch { /* missing */ }
    if (committed !== artifactText(a)) stale.push(name);
  }
  for (const e of Deno.readDirSync(ARTIFACTS)) {
    if (e.name.endsWith(".json") && !(e.name.slice(0, -5) in fresh)) stale.push(e.name);
  }
  return stale;
}

if (import.meta.main) {
  const fresh = await compileContracts();
  if (Deno.args.includes("--check")) {
    const stale = staleArtifacts(fresh);
    if (stale.length) {
      console.error(`contracts/out is stale (${stale.join(", ")}): run deno task contracts and commit it`);
      Deno.exit(1);
    }
    console.log(`contracts/out matches contracts/*.sol (${Object.keys(fresh).length} contracts)`);
  } else {
    Deno.mkdirSync(ARTIFACTS, { recursive: true });
    for (const e of Deno.readDirSync(ARTIFACTS)) {
      if (e.name.endsWith(".json") && !(e.name.slice(0, -5) in fresh)) Deno.removeSync(new URL(e.name, ARTIFACTS));
    }
    for (const [name, a] of Object.entries(fresh)) {
      Deno.writeTextFileSync(new URL(`${name}.json`, ARTIFACTS), artifactText(a));
    }
    console.log(`wrote ${Object.keys(fresh).map((n) => `contracts/out/${n}.json`).join(", ")}`);
  }
}
