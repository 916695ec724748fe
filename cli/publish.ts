/**
 * `publish`: kit publish. Checks the metadata at --metadata-uri (fetched, parsed, the same as the package's
 * metadata.json, its code hash for current_version the SHA-256 of the zip of the built pkg/), then writes the App
 * Store notes (~metadata-hash, ~metadata-uri) under `<package>.<publisher>` on Hypermap through the publisher's
 * token-bound account (chain/app_publish.ts), signed with a keystore's key over --rpc; or, against a fake node on
 * the dev chain (-p PORT), by that node as its own account, so no keystore is needed there. --unpublish empties
 * the notes. kit's -p is --priority-fee; here -p is the node's port, as in hyperdeno's other commands.
 */
import { createWalletClient, defineChain, type Hex, http, webSocket } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { postToNode } from "./node_client.ts";
import { readPackageDir } from "./package_dir.ts";
import { zipPkg } from "./pkg_zip.ts";
import { decryptKeystore, KeystoreError } from "./keystore.ts";
import { promptPassword } from "./password_prompt.ts";
import { ChainClient, failure } from "../chain/client.ts";
import { planData, planPublish, PublishError } from "../chain/app_publish.ts";
import { DEV_CHAIN_ID } from "../chain/hypermap.ts";
import { keccak256 } from "viem";
import type { Erc721Metadata } from "../packages/app-store/api/chain.ts";
import { MAX_METADATA_BYTES } from "../packages/app-store/api/chain.ts";
import { checkUri, MetadataRefused, parseMetadataBytes } from "../packages/app-store/api/metadata.ts";

const REAL_CHAIN_ID = 8453;

export const spec: CommandSpec = {
  name: "publish",
  summary: "Publish or update a package",
  usage: "hyperdeno publish [OPTIONS] --metadata-uri <URI> [DIR]",
  positionals: [{ name: "[DIR]", help: "The package directory to publish", default: "." }],
  flags: [
    { long: "metadata-uri", short: "u", value: "URI", help: "URI where metadata lives" },
    { long: "keystore-path", short: "k", value: "PATH", help: "Path to private key keystore (Web3 Secret Storage)" },
    { long: "password", value: "PASSWORD", help: "The keystore's password [default: asked]" },
    { long: "rpc", short: "r", value: "RPC_URI", help: "Ethereum RPC endpoint (ws://, wss://, http://, https://)" },
    { long: "port", short: "p", value: "NODE_PORT", help: "A fake node on the dev chain publishes as itself" },
    { long: "real", short: "e", bool: true, help: "If set, deploy to real network (Base) [default: dev chain]" },
    {
      long: "unpublish",
      bool: true,
      help: "If set, unpublish existing published package [default: publish a package]",
    },
    {
      long: "gas-limit",
      short: "g",
      value: "GAS_LIMIT",
      default: "1000000",
      help: "The ETH transaction gas limit",
    },
    {
      long: "priority-fee",
      value: "MAX_PRIORITY_FEE_PER_GAS",
      help: "The ETH transaction max priority fee per gas [default: estimated from network conditions]",
    },
    {
      long: "fee-per-gas",
      short: "f",
      value: "MAX_FEE_PER_GAS",
      help: "The ETH transaction max fee per gas [default: estimated from network conditions]",
    },
    { long: "mock", short: "m", bool: true, help: "If set, don't actually publish: just dry-run" },
    { long: "ledger", short: "l", bool: true, refused: "hardware wallets are not supported here: use --keystore-path" },
    { long: "trezor", short: "t", bool: true, refused: "hardware wallets are not supported here: use --keystore-path" },
  ],
};

export interface PublishOptions {
  dir: string;
  metadataUri?: string;
  keystorePath?: string;
  password?: string;
  rpc?: string;
  port?: number;
  real?: boolean;
  unpublish?: boolean;
  gasLimit?: bigint;
  priorityFee?: bigint;
  feePerGas?: bigint;
  mock?: boolean;
}

/** The metadata at `uri`: fetched (at most MAX_METADATA_BYTES, 30 s), its bytes, parsed and checked. */
async function fetchMetadata(uri: string): Promise<{ bytes: Uint8Array; meta: Erc721Metadata }> {
  try {
    checkUri(uri);
  } catch (e) {
    throw new UsageError(`--metadata-uri: ${(e as Error).message}`);
  }
  let resp: Response;
  try {
    resp = await fetch(uri, { signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new UsageError(
      `the metadata URI ${uri} is unreachable (${(e as Error).message.split("\n")[0]}): host it first`,
    );
  }
  if (!resp.ok) {
    await resp.body?.cancel();
    throw new UsageError(`the metadata URI ${uri} answered HTTP ${resp.status}: put metadata.json there first`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of resp.body!) {
    size += c.length;
    if (size > MAX_METADATA_BYTES) {
      await resp.body?.cancel().catch(() => {});
      throw new UsageError(`the metadata at ${uri} is over ${MAX_METADATA_BYTES} bytes: nodes would refuse it`);
    }
    chunks.push(c);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) bytes.set(c, (at += c.length) - c.length);
  try {
    return { bytes, meta: parseMetadataBytes(bytes) };
  } catch (e) {
    if (e instanceof MetadataRefused) throw new UsageError(`the metadata at ${uri}: ${e.message}`);
    throw e;
  }
}

const sameJson = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || !a || !b || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] != null).sort();
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] != null).sort();
  return ka.length === kb.length &&
    ka.every((k, i) => k === kb[i] && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
};

/** What is published: the package, its metadata's hash, checked against the local package. */
export async function checkPackage(o: PublishOptions): Promise<{ packageName: string; publisher: string; hash: Hex }> {
  const { dir, packageId } = readPackageDir(o.dir);
  let local: Erc721Metadata;
  try {
    local = parseMetadataBytes(Deno.readFileSync(`${dir}/metadata.json`));
  } catch (e) {
    throw new UsageError(`${dir}/metadata.json: ${(e as Error).message}`);
  }
  const { package_name: packageName, publisher } = local.properties;
  if (o.unpublish) return { packageName, publisher, hash: "0x" };
  if (!o.metadataUri) throw new UsageError("--metadata-uri is required: the URI where metadata.json is hosted");
  const { bytes, meta } = await fetchMetadata(o.metadataUri);
  if (!sameJson(meta, local)) {
    throw new UsageError(`${dir}/metadata.json and the metadata at ${o.metadataUri} differ: host the local one there`);
  }
  try {
    Deno.statSync(`${dir}/pkg/manifest.json`);
  } catch {
    throw new UsageError(`${dir} has no built pkg/: run \`hyperdeno build ${o.dir}\` first`);
  }
  const { sha256 } = await zipPkg(dir, packageId);
  const version = meta.properties.current_version;
  const expected = meta.properties.code_hashes[version];
  if (expected !== sha256) {
    throw new UsageError(
      `hash mismatch: the zipped pkg/ hashes to ${sha256}, not ${expected ?? "(none)"} as code_hashes["${version}"] ` +
        `at ${o.metadataUri} says: put the hash \`hyperdeno build\` printed in metadata.json and host it again`,
    );
  }
  return { packageName, publisher, hash: keccak256(bytes) };
}

/** Publishes as the fake node on `port` (the dev chain only). */
async function publishThroughNode(
  o: PublishOptions,
  p: { packageName: string; publisher: string; hash: Hex },
  say: (l: string) => void,
): Promise<number> {
  if (o.mock) {
    say(
      `mock: the node on port ${o.port} would ${o.unpublish ? "unpublish" : "publish"} ${p.packageName}.${p.publisher}`,
    );
    return 0;
  }
  const { status, json } = await postToNode(o.port!, "/rpc:distro:sys/publish", {
    publisher: p.publisher,
    package_name: p.packageName,
    metadata_uri: o.unpublish ? "" : o.metadataUri,
    metadata_hash: o.unpublish ? "" : p.hash,
    unpublish: Boolean(o.unpublish),
  });
  if (status !== 200) throw new UsageError(`the node on port ${o.port} did not publish: ${json.error}`);
  say(`${json.kind === "unpublish" ? "unpublished" : "published"} ${json.app} in block ${json.block} (${json.hash})`);
  return 0;
}

/** Publishes with a keystore's key over --rpc. */
async function publishWithKey(
  o: PublishOptions,
  p: { packageName: string; publisher: string; hash: Hex },
  say: (l: string) => void,
): Promise<number> {
  let json: string;
  try {
    json = Deno.readTextFileSync(o.keystorePath!);
  } catch (e) {
    throw new UsageError(`--keystore-path ${o.keystorePath}: ${(e as Error).message.split("\n")[0]}`);
  }
  const password = o.password ?? await promptPassword("Enter password: ");
  let key: Hex;
  try {
    key = decryptKeystore(json, password);
  } catch (e) {
    if (e instanceof KeystoreError) throw new UsageError(`${o.keystorePath}: ${e.message}`);
    throw e;
  }
  const rpc = o.rpc ?? (o.real ? undefined : "ws://localhost:8545");
  if (!rpc) throw new UsageError("--rpc is required with --real: a Base RPC endpoint");
  let chain: ChainClient;
  try {
    chain = new ChainClient(rpc, 30_000);
  } catch (e) {
    throw new UsageError(`--rpc: ${(e as Error).message}`);
  }
  try {
    const want = o.real ? REAL_CHAIN_ID : DEV_CHAIN_ID;
    let got: number;
    try {
      got = await chain.chainId();
    } catch (e) {
      throw new UsageError(`the RPC ${rpc} does not answer (${failure(e)}): check --rpc`);
    }
    if (got !== want) {
      throw new UsageError(
        `wrong chain: ${rpc} is chain ${got}, not ${want}${o.real ? "" : " (the dev chain; pass --real for Base)"}`,
      );
    }
    const account = privateKeyToAccount(key);
    const plan = await planPublish(chain, {
      publisher: p.publisher,
      packageName: p.packageName,
      uri: o.metadataUri ?? "",
      hash: p.hash,
      signer: account.address,
      unpublish: o.unpublish,
    }).catch((e) => {
      throw e instanceof PublishError ? new UsageError(e.message) : e;
    });
    if (o.mock) {
      say(`mock: would send ${plan.kind} of ${p.packageName}.${p.publisher} to ${plan.to}: ${planData(plan)}`);
      return 0;
    }
    const wallet = createWalletClient({
      account,
      chain: defineChain({
        id: want,
        name: o.real ? "base" : "dev",
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        rpcUrls: { default: { http: [rpc] } },
      }),
      transport: rpc.startsWith("ws") ? webSocket(rpc) : http(rpc),
    });
    let hash: Hex;
    try {
      hash = await wallet.sendTransaction({
        to: plan.to,
        data: planData(plan),
        gas: o.gasLimit ?? 1_000_000n,
        ...(o.feePerGas !== undefined ? { maxFeePerGas: o.feePerGas } : {}),
        ...(o.priorityFee !== undefined ? { maxPriorityFeePerGas: o.priorityFee } : {}),
      });
    } catch (e) {
      throw new UsageError(`the chain refused the transaction: ${failure(e)}`);
    }
    const receipt = await chain.public.waitForTransactionReceipt({ hash, pollingInterval: 200, timeout: 120_000 });
    if (receipt.status !== "success") {
      throw new UsageError(`the transaction ${hash} reverted in block ${receipt.blockNumber}: check the gas limit`);
    }
    say(
      `${
        plan.kind === "unpublish" ? "unpublished" : "published"
      } ${p.packageName}.${p.publisher} in block ${receipt.blockNumber} (${hash})`,
    );
    return 0;
  } finally {
    await chain.close();
  }
}

export async function publish(o: PublishOptions, say: (l: string) => void = console.log): Promise<number> {
  if (o.keystorePath && o.port !== undefined) {
    throw new UsageError("pass --keystore-path (with --rpc) or -p NODE_PORT, not both");
  }
  if (!o.keystorePath && o.port === undefined) {
    throw new UsageError("pass --keystore-path and --rpc, or -p PORT of a fake node on the dev chain to publish as it");
  }
  if (o.port !== undefined && o.real) {
    throw new UsageError("-p publishes on the dev chain only; --real needs a keystore");
  }
  const checked = await checkPackage(o);
  return o.port !== undefined ? publishThroughNode(o, checked, say) : publishWithKey(o, checked, say);
}

function bigFlag(v: unknown, flag: string): bigint | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !/^[0-9_]+$/.test(v)) throw new UsageError(`${flag} takes a whole number, not ${v}`);
  return BigInt(v.replaceAll("_", ""));
}

export function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  return publish({
    dir: positionals[0],
    metadataUri: flags["metadata-uri"] as string | undefined,
    keystorePath: flags["keystore-path"] as string | undefined,
    password: flags.password as string | undefined,
    rpc: flags.rpc as string | undefined,
    port: flags.port === undefined ? undefined : portFlag(flags.port),
    real: Boolean(flags.real),
    unpublish: Boolean(flags.unpublish),
    gasLimit: bigFlag(flags["gas-limit"], "--gas-limit"),
    priorityFee: bigFlag(flags["priority-fee"], "--priority-fee"),
    feePerGas: bigFlag(flags["fee-per-gas"], "--fee-per-gas"),
    mock: Boolean(flags.mock),
  });
}
