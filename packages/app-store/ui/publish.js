// Publish: puts an app on Hypermap with the browser's wallet, as the reference's Publish page and `hyperdeno publish`
// do. The metadata at a URI is fetched here (keccak256 of its bytes is the ~metadata-hash), the wallet's chain is read
// through the wallet, and one transaction goes through the publisher's token-bound account: a new entry
// `<package>.<publisher>` minted with its two notes, or the notes of an entry the wallet owns rewritten (or emptied:
// unpublish). The calls are chain/app_publish.ts's, encoded with viem (vendor/viem.js).
import { api, el } from "./api.js";
import { decodeFunctionResult, encodeFunctionData, keccak256, namehash, parseAbi, stringToHex } from "./vendor/viem.js";

const HYPERMAP = "0x000000000044C6B8Cb4d8f0F889a3E47664EAeda";
const MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11";
const HYPER_ACCOUNT = "0x0000000000EDAd72076CBe7b9Cfa3751D5a85C97";
const NO_ADDRESS = /^0x0{40}$/i;
/** What a node accepts (api/chain.ts MAX_METADATA_BYTES). */
const MAX_METADATA_BYTES = 256 * 1024;
const ABI = parseAbi([
  "function get(bytes32 node) view returns (address tba, address owner, bytes data)",
  "function note(bytes note, bytes data) returns (bytes32)",
  "function mint(address who, bytes label, bytes initialization, address implementation) returns (address)",
  "function execute(address to, uint256 value, bytes data, uint8 operation) payable returns (bytes)",
  "struct Call { address target; bytes callData; }",
  "function aggregate(Call[] calls) payable returns (uint256 blockNumber, bytes[] returnData)",
]);

async function wallet(method, params = []) {
  if (!globalThis.ethereum) {
    throw new Error("no wallet in this browser: add one (MetaMask, Rabby, ...) or use `hyperdeno publish`");
  }
  return await globalThis.ethereum.request({ method, params });
}

/** Hypermap's get(name) through the wallet's chain: [tba, owner] or null when the entry does not exist. */
async function entry(name) {
  const data = encodeFunctionData({ abi: ABI, functionName: "get", args: [namehash(name)] });
  const out = await wallet("eth_call", [{ to: HYPERMAP, data }, "latest"]);
  const [tba, owner] = decodeFunctionResult({ abi: ABI, functionName: "get", data: out });
  return NO_ADDRESS.test(tba) ? null : [tba, owner];
}

const same = (a, b) => a.toLowerCase() === b.toLowerCase();

/** execute(Multicall3, 0, aggregate(~metadata-hash, ~metadata-uri notes), DELEGATECALL), as kit writes them. */
function notesCall(uri, hash) {
  const note = (label, value) => ({
    target: HYPERMAP,
    callData: encodeFunctionData({
      abi: ABI,
      functionName: "note",
      args: [stringToHex(label), stringToHex(value)],
    }),
  });
  const calls = [note("~metadata-hash", hash), note("~metadata-uri", uri)];
  const aggregate = encodeFunctionData({ abi: ABI, functionName: "aggregate", args: [calls] });
  return encodeFunctionData({ abi: ABI, functionName: "execute", args: [MULTICALL3, 0n, aggregate, 1] });
}

/** The transaction for `account` to publish `pkg` under `publisher` (or why it cannot). */
async function plan(account, pkg, publisher, uri, hash) {
  const app = `${pkg}.${publisher}`;
  const own = await entry(app);
  if (own && !same(own[1], account)) return { problem: `${app} is owned by ${own[1]}, not by this wallet` };
  if (own) return { kind: "update", to: own[0], data: notesCall(uri, hash), unpublish: notesCall("", ""), app };
  const parent = await entry(publisher);
  if (!parent) return { problem: `the publisher ${publisher} is not on this chain: register it first` };
  if (!same(parent[1], account)) {
    return { problem: `this wallet is not the owner of the publisher name ${publisher} (${parent[1]} is)` };
  }
  const mint = encodeFunctionData({
    abi: ABI,
    functionName: "mint",
    args: [account, stringToHex(pkg), notesCall(uri, hash), HYPER_ACCOUNT],
  });
  const data = encodeFunctionData({ abi: ABI, functionName: "execute", args: [HYPERMAP, 0n, mint, 0] });
  return { kind: "mint", to: parent[0], data, app };
}

/** The metadata at `uri`: its bytes' keccak256 and the fields publishing needs, checked. */
async function fetchMetadata(uri) {
  let url;
  try {
    url = new URL(uri);
  } catch {
    throw new Error("the metadata URI is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("the metadata URI is not http(s)");
  let r;
  try {
    r = await fetch(url, { cache: "no-store" });
  } catch {
    throw new Error(`${uri} is unreachable from this page (offline, or it does not allow other sites to read it)`);
  }
  if (!r.ok) throw new Error(`${uri} answered HTTP ${r.status}`);
  const bytes = new Uint8Array(await r.arrayBuffer());
  if (bytes.length > MAX_METADATA_BYTES) throw new Error(`the metadata is over ${MAX_METADATA_BYTES} bytes`);
  let meta;
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error("the metadata is not JSON");
  }
  const p = meta?.properties;
  if (!p || typeof p.package_name !== "string" || typeof p.publisher !== "string") {
    throw new Error("the metadata has no properties.package_name and properties.publisher");
  }
  const code = p.code_hashes?.[p.current_version];
  if (typeof code !== "string") {
    throw new Error(`code_hashes has no hash for current_version ${p.current_version}: add the one build printed`);
  }
  return { hash: keccak256(bytes), meta, code };
}

async function receipt(hash) {
  for (let wait = 250; wait < 120_000; wait = Math.min(wait * 2, 2000)) {
    const r = await wallet("eth_getTransactionReceipt", [hash]);
    if (r?.status) return r;
    await new Promise((res) => setTimeout(res, wait));
  }
  throw new Error(`no receipt for ${hash} yet: look for it in your wallet`);
}

export function renderPublish(view) {
  let account = null, checked = null, timer = null, stopped = false;
  const accountText = el("span", { id: "account", class: "muted" }, "no wallet connected");
  const connect = el("button", { id: "connect" }, "Connect wallet");
  const uri = el("input", {
    id: "metadata-uri",
    type: "url",
    placeholder: "https://…/metadata.json",
    size: 60,
    "aria-label": "Metadata URI",
  });
  const check = el("button", { id: "check" }, "Check");
  const summary = el("div", { id: "summary" });
  const publish = el("button", { id: "publish", class: "primary", disabled: true }, "Publish");
  const unpublish = el("button", { id: "unpublish", hidden: true }, "Unpublish");
  const status = el("p", { id: "status" });
  const say = (text, cls = "") => {
    status.className = cls;
    status.textContent = text;
  };
  const busy = (on) => {
    for (const b of [connect, check, publish, unpublish]) b.disabled = on;
    if (!on) publish.disabled = !checked?.plan?.kind;
  };

  const refresh = async () => {
    checked = null;
    publish.disabled = true;
    unpublish.hidden = true;
    summary.replaceChildren();
    if (!uri.value.trim()) return;
    const { hash, meta, code } = await fetchMetadata(uri.value.trim());
    const p = meta.properties;
    const id = `${p.package_name}:${p.publisher}`;
    const found = account ? await plan(account, p.package_name, p.publisher, uri.value.trim(), hash) : null;
    checked = { hash, meta, plan: found, id };
    summary.replaceChildren(
      el("h3", {}, meta.name ?? id),
      el("div", { class: "muted", id: "summary-id" }, `${id} · v${p.current_version}`),
      el("div", { class: "muted" }, `metadata keccak256 ${hash}`),
      el("div", { class: "muted" }, `code hash of ${p.current_version}: ${code}`),
      el(
        "p",
        { id: "plan", class: found?.problem ? "error" : "" },
        !found ? "Connect a wallet that owns the publisher's name to publish." : found.problem ??
          (found.kind === "mint"
            ? `Publishing mints ${found.app} through ${p.publisher}'s account, with its notes.`
            : `${found.app} exists: publishing rewrites its notes.`),
      ),
    );
    publish.disabled = !found?.kind;
    unpublish.hidden = found?.kind !== "update";
  };

  const guard = (f) => async () => {
    busy(true);
    try {
      await f();
    } catch (e) {
      say(e?.message ?? String(e), "error");
    } finally {
      busy(false);
    }
  };

  connect.addEventListener(
    "click",
    guard(async () => {
      const [first] = await wallet("eth_requestAccounts");
      if (!first) throw new Error("the wallet gave no account");
      const code = await wallet("eth_getCode", [HYPERMAP, "latest"]);
      if (!code || code === "0x") {
        const id = parseInt(await wallet("eth_chainId"), 16);
        throw new Error(`the wallet's chain (${id}) has no Hypermap: switch it to the chain your node uses`);
      }
      account = first;
      accountText.textContent = account;
      say("");
      await refresh();
    }),
  );
  check.addEventListener(
    "click",
    guard(async () => {
      say("");
      await refresh();
    }),
  );

  const send = async (data, to, done) => {
    say("Confirm the transaction in your wallet…");
    const tx = await wallet("eth_sendTransaction", [{ from: account, to, data }]);
    say(`Sent ${tx}; waiting for it to be mined…`);
    const r = await receipt(tx);
    if (r.status !== "0x1") throw new Error(`the transaction ${tx} reverted in block ${parseInt(r.blockNumber, 16)}`);
    say(`Mined in block ${parseInt(r.blockNumber, 16)}; waiting for the App Store to list it…`, "ok");
    await watch(done);
  };

  /** Polls the App Store's list until `done(apps)` holds (the chain process verified the metadata), for a minute. */
  const watch = (done) =>
    new Promise((resolve) => {
      const until = Date.now() + 60_000;
      const tick = async () => {
        if (stopped) return resolve();
        const { apps } = await api("apps").catch(() => ({ apps: [] }));
        const text = done(apps);
        if (text) {
          say(text, "ok");
          return resolve();
        }
        if (Date.now() > until) {
          say("Mined, but not listed yet: the node lists an app once its metadata at the URI matches the hash.");
          return resolve();
        }
        timer = setTimeout(tick, 1000);
      };
      tick();
    });

  publish.addEventListener(
    "click",
    guard(async () => {
      const c = checked;
      if (!c?.plan?.kind) return;
      await send(c.plan.data, c.plan.to, (apps) => {
        const a = apps.find((x) => `${x.package_id.package_name}:${x.package_id.publisher_node}` === c.id);
        return a?.metadata_hash === c.hash ? `Published ${c.id} ${a.metadata.properties.current_version}` : null;
      });
      await refresh();
    }),
  );
  unpublish.addEventListener(
    "click",
    guard(async () => {
      const c = checked;
      if (c?.plan?.kind !== "update" || !confirm(`Unpublish ${c.id}? Nodes stop listing it.`)) return;
      await send(c.plan.unpublish, c.plan.to, (apps) => {
        const gone = !apps.some((x) => `${x.package_id.package_name}:${x.package_id.publisher_node}` === c.id);
        return gone ? `Unpublished ${c.id}` : null;
      });
      await refresh().catch(() => {});
    }),
  );

  view.append(
    el("h2", {}, "Publish an app"),
    el(
      "p",
      { class: "muted" },
      "Host your package's metadata.json (code_hashes holding the hash `hyperdeno build` printed) where anyone can " +
        "fetch it, then publish it with a wallet that owns the publisher's name, or run `hyperdeno publish`.",
    ),
    el("p", {}, connect, " ", accountText),
    el("p", {}, uri, " ", check),
    summary,
    el("p", {}, publish, " ", unpublish),
    status,
  );
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
