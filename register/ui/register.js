// The registration pages' script (served by the node, no framework): the wallet is the browser's EIP-1193 provider
// (globalThis.ethereum, as MetaMask injects it), asked for accounts, the chain, transactions and one typed-data
// signature; the node encodes every transaction and reads the chain (register/server.ts).
"use strict";

const $ = (id) => document.getElementById(id);
let info = null;
let account = null;
let flow = "register"; // or "reset"
let checked = null; // the last name status for what is typed

async function api(path, body) {
  const init = body === undefined
    ? {}
    : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const r = await fetch(path, init);
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || `${path} answered ${r.status}`);
  return j;
}

function show(...ids) {
  for (const s of document.querySelectorAll("main > section")) s.hidden = !ids.includes(s.id);
}

function say(text) {
  $("status").hidden = !text;
  $("status").textContent = text || "";
}

function fail(e) {
  say("");
  $("error").hidden = false;
  $("error").textContent = e instanceof Error ? e.message : String(e);
}

function clearError() {
  $("error").hidden = true;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function wallet(method, params) {
  if (!globalThis.ethereum) {
    throw new Error("No wallet in this browser: install MetaMask (or another EIP-1193 wallet) and reload.");
  }
  return await globalThis.ethereum.request({ method, params });
}

/** Runs a step, showing its error instead of leaving the page stuck. */
function step(f) {
  return async (ev) => {
    ev?.preventDefault();
    clearError();
    try {
      await f();
    } catch (e) {
      fail(e);
    }
  };
}

async function connect() {
  const accounts = await wallet("eth_requestAccounts", []);
  if (!accounts?.length) throw new Error("The wallet gave no account.");
  account = accounts[0];
  const id = parseInt(await wallet("eth_chainId", []), 16);
  if (id !== info.chain_id) {
    try {
      await wallet("wallet_switchEthereumChain", [{ chainId: `0x${info.chain_id.toString(16)}` }]);
    } catch {
      throw new Error(`Your wallet is on chain ${id}: switch it to ${info.chain_name} (chain ${info.chain_id}).`);
    }
  }
  $("account").textContent = account;
  $("choose-title").textContent = flow === "reset"
    ? "Which name's networking notes to reset?"
    : "Choose a name for your node";
  $("register").hidden = flow === "reset";
  $("reset").hidden = flow !== "reset";
  show("choose");
  $("name").focus();
}

function routing() {
  const direct = $("direct").checked;
  return {
    direct,
    ip: direct ? $("ip").value.trim() : undefined,
    routers: direct ? undefined : $("routers").value.split(/[\s,]+/).filter(Boolean),
  };
}

let nameTimer = 0;
function nameTyped() {
  clearTimeout(nameTimer);
  checked = null;
  $("register").disabled = $("reset").disabled = true;
  const name = $("name").value.trim();
  if (!name) return ($("name-status").textContent = "");
  $("name-status").textContent = "Checking the chain…";
  nameTimer = setTimeout(() => checkName(name).catch(fail), 300);
}

async function checkName(name) {
  const s = await api("/api/name", { name });
  if ($("name").value.trim() !== name) return;
  checked = s;
  const status = $("name-status");
  if (flow === "reset") {
    const mine = s.owner && s.owner.toLowerCase() === account.toLowerCase();
    status.className = mine ? "note ok" : "error";
    status.textContent = !s.owner
      ? `${s.name} is not registered.`
      : mine
      ? `${s.name} is yours: its notes will name this node's new key.`
      : `${s.name} is owned by ${s.owner}, not by this wallet.`;
    $("reset").disabled = !mine;
    return;
  }
  status.className = s.available ? "note ok" : "error";
  status.textContent = s.available
    ? `${s.name} is available${s.commit ? ` (a commit first, then the mint ${s.commitAge} s later)` : ""}.`
    : s.problem;
  $("register").disabled = !s.available;
}

async function sendTx(tx, what) {
  say(`Confirm ${what} in your wallet…`);
  const hash = await wallet("eth_sendTransaction", [{ from: account, to: tx.to, data: tx.data }]);
  say(`Waiting for ${what} to be in a block…`);
  const r = await api("/api/receipt", { hash });
  if (!r.ok) throw new Error(`${what} (${hash}) was reverted by the chain.`);
  return r;
}

async function register() {
  const s = checked;
  if (!s || !s.available) throw new Error("Choose an available name first.");
  const params = { name: s.name, owner: account, ...routing() };
  $("register").disabled = true;
  if (s.commit) {
    await sendTx(await api("/api/tx", { kind: "commit", ...params }), "the pre-commit");
    say(`Waiting ${s.commitAge} s for the commit to become valid…`);
    await sleep(s.commitAge * 1000 + 1000);
    for (let i = 0;; i++) {
      const sim = await api("/api/simulate", params);
      if (sim.ok) break;
      if (sim.error !== "CommitTooNew" || i > 60) throw new Error(`The mint would fail: ${sim.error}.`);
      await sleep(2000);
    }
  }
  await sendTx(await api("/api/tx", { kind: "mint", ...params }), `the mint of ${s.name}`);
  toPassword(s.name, false);
}

async function reset() {
  const s = checked;
  const params = { name: s.name, owner: account, ...routing() };
  $("reset").disabled = true;
  await sendTx(await api("/api/tx", { kind: "reset", ...params }), `the new notes of ${s.name}`);
  toPassword(s.name, true);
}

let booting = null;
function toPassword(name, isReset) {
  booting = { name, reset: isReset, ...routing() };
  say("");
  $("password-name").textContent = name;
  show("password-step");
  $("password").focus();
}

async function setPassword() {
  const password = $("password").value;
  if (password.length < info.min_password) throw new Error(`A password is at least ${info.min_password} characters.`);
  if (password !== $("password2").value) throw new Error("The passwords do not match.");
  say("Preparing the boot message…");
  const typed = await api("/api/boot-message", { ...booting, password });
  say("Sign the boot message in your wallet…");
  const signature = await wallet("eth_signTypedData_v4", [account, JSON.stringify(typed)]);
  say("Encrypting the networking key…");
  const res = await api("/api/boot", {
    ...booting,
    password,
    timestamp: Number(typed.message.timestamp),
    signature,
  });
  if (res.keyfile) download(`${res.name}.keyfile`, res.keyfile);
  await landHome(res.name);
}

function download(fileName, text) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "application/octet-stream" }));
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
}

/** The node takes over the port as `name`: wait until it answers, then its home page. */
async function landHome(name) {
  say(`Booting ${name}…`);
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch("/our", { cache: "no-store" });
      if (r.ok && (await r.text()) === name) {
        location.href = "/";
        return;
      }
    } catch { /* the port is changing hands */ }
    await sleep(200);
  }
  throw new Error(`${name} did not come up: see the node's terminal.`);
}

async function login() {
  const res = await api("/api/login", { password: $("login-password").value });
  await landHome(res.name);
}

async function importKeyfile() {
  const file = $("keyfile").files[0];
  if (!file) throw new Error("Choose the keyfile first.");
  say("Decrypting the keyfile…");
  const res = await api("/api/import-keyfile", {
    keyfile: await file.text(),
    name: $("import-name").value.trim(),
    password: $("import-password").value,
  });
  await landHome(res.name);
}

function go(path) {
  clearError();
  say("");
  history.replaceState(null, "", path);
  if (path === "/login" && info.mode === "login") {
    $("login-name").textContent = info.name;
    show("login-step");
    $("login-password").focus();
  } else if (path === "/import-keyfile") show("import-step");
  else if (path === "/register" || path === "/reset") {
    flow = path === "/reset" ? "reset" : "register";
    show("wallet");
  } else show("start");
}

async function loadRouters() {
  try {
    const r = await api("/api/routers");
    if (!$("routers").value) $("routers").value = r.picked.join("\n");
    $("routers").placeholder = r.candidates.join("\n") || "router.os";
  } catch (e) {
    fail(e);
  }
}

async function main() {
  info = await api("/api/info");
  $("chain").textContent = `On ${info.chain_name} (chain id ${info.chain_id}).` +
    (info.mode === "login" ? ` This node is ${info.name}.` : "");
  $("go-login").hidden = info.mode !== "login";
  $("ip").value = info.ip;
  $("tcp-port").textContent = info.ports.tcp;
  $("ws-port").textContent = info.ports.ws;
  $("go-register").onclick = () => go("/register");
  $("go-login").onclick = () => go("/login");
  $("go-import").onclick = () => go("/import-keyfile");
  $("go-reset").onclick = () => go("/reset");
  $("connect").onclick = step(connect);
  $("name").oninput = nameTyped;
  for (const r of ["direct", "indirect"]) {
    $(r).onchange = () => {
      $("direct-options").hidden = !$("direct").checked;
      $("indirect-options").hidden = $("direct").checked;
    };
  }
  $("register").onclick = step(register);
  $("reset").onclick = step(reset);
  $("set-password").onclick = step(setPassword);
  $("login").onclick = step(login);
  $("import").onclick = step(importKeyfile);
  go(location.pathname === "/" && info.mode === "login" ? "/login" : location.pathname);
  loadRouters();
}

main().catch(fail);
