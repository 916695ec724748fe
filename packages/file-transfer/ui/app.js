// Kino Files: the page. Plain DOM, no framework; every name that came from a
// peer reaches the page through textContent only.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  node: "",
  folder: "", // the folder shown in My files
  peer: "", // the node looked up
  remoteFolder: "",
  transfers: new Map(),
  allow: null,
};

// ------------------------------------------------------------ helpers

/** An element: h("li", {class: "x", onclick}, child, "text"). */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
function bytes(n) {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${UNITS[i]}`;
}
function duration(s) {
  if (!Number.isFinite(s) || s < 0) return "--";
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m ${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h ${String(Math.floor(t / 60) % 60).padStart(2, "0")}m`;
}
function when(ms) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString();
}

let toastTimer;
/**
 * A message at the bottom of the page, with `actions` ({label, class, run})
 * as buttons and always a way to dismiss it. It hides by itself (later when
 * it offers a choice, never while the pointer rests on it).
 */
function toast(text, bad = false, actions = []) {
  const t = $("toast");
  const hide = () => (t.hidden = true, clearTimeout(toastTimer));
  t.replaceChildren(h("span", { class: "text" }, text));
  const buttons = actions.map((a) =>
    h("button", { class: `btn small ${a.class}`, type: "button", onclick: () => (hide(), a.run()) }, a.label)
  );
  t.append(
    h("span", { class: "acts" }, buttons),
    h("button", { class: "close", type: "button", title: "Dismiss", "aria-label": "Dismiss", onclick: hide }, "×"),
  );
  t.className = bad ? "toast bad" : "toast";
  t.hidden = false;
  const wait = actions.length ? 12000 : bad ? 6000 : 3000;
  const arm = () => (clearTimeout(toastTimer), toastTimer = setTimeout(hide, wait));
  t.onmouseenter = () => clearTimeout(toastTimer);
  t.onmouseleave = arm;
  arm();
}

/** Calls the API; throws an Error carrying the server's message. */
async function api(path, body, method) {
  const init = body === undefined ? { method: method ?? "GET" } : {
    method: method ?? "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
  const r = await fetch(`api/${path}`, init);
  if (r.status === 401) {
    location.href = `/login?redirect=${encodeURIComponent(location.pathname)}`;
    throw new Error("please log in");
  }
  const data = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw Object.assign(new Error(data.error ?? `${r.status}`), { code: data.code });
  return data;
}

/** Entries directly inside `folder` (listings hold everything under it). */
function children(files, folder) {
  const prefix = folder ? `${folder}/` : "";
  return files
    .filter((f) => f.name.startsWith(prefix) && !f.name.slice(prefix.length).includes("/"))
    .sort((a, b) => (b.is_dir ? 1 : 0) - (a.is_dir ? 1 : 0) || a.name.localeCompare(b.name));
}
const baseName = (name) => name.slice(name.lastIndexOf("/") + 1);

function crumbs(el, root, folder, go) {
  el.replaceChildren();
  const parts = folder ? folder.split("/") : [];
  el.append(h("button", { type: "button", onclick: () => go("") }, root));
  parts.forEach((p, i) => {
    el.append(h("span", { class: "sep" }, "/"));
    el.append(h("button", { type: "button", onclick: () => go(parts.slice(0, i + 1).join("/")) }, p));
  });
}

const FOLDER = "M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z";
const FILE = "M6 3h8l5 5v11a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm8 0v5h5";

/** A 24×24 outline icon drawn from one SVG path. */
function icon(d) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  for (
    const [k, v] of Object.entries({
      d,
      fill: "none",
      stroke: "currentColor",
      "stroke-width": "2",
      "stroke-linejoin": "round",
    })
  ) {
    path.setAttribute(k, v);
  }
  svg.append(path);
  return svg;
}

/** One entry of a listing: icon, name (a folder's opens it), size, and `actions`. */
function fileRow(f, open, actions) {
  return h(
    "li",
    { class: "file", dataset: { name: f.name } },
    h("span", { class: "icon", "aria-hidden": "true" }, icon(f.is_dir ? FOLDER : FILE)),
    h(
      "span",
      { class: "what" },
      f.is_dir
        ? h("button", { class: "name", type: "button", onclick: open }, baseName(f.name))
        : h("span", { class: "name", title: f.name }, baseName(f.name)),
      h("span", { class: "size" }, f.is_dir ? `folder · ${bytes(f.size)}` : bytes(f.size)),
    ),
    h("span", { class: "acts" }, actions),
  );
}

// ------------------------------------------------------------ tabs

function show(tab) {
  for (const b of document.querySelectorAll(".tabs button")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === tab));
  }
  for (const s of document.querySelectorAll(".panel")) s.hidden = s.id !== tab;
  if (tab === "files") loadMine();
  if (tab === "sharing") loadAllow();
}
for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => show(b.dataset.tab));

// ------------------------------------------------------------ my files

async function loadMine() {
  try {
    const { node, files } = await api(`files?path=${encodeURIComponent(state.folder)}`);
    state.node = node;
    $("node").textContent = node;
    document.title = `Kino Files · ${node}`;
    renderMine(files);
  } catch (e) {
    if (state.folder) {
      state.folder = "";
      return loadMine();
    }
    toast(e.message, true);
  }
}

function renderMine(files) {
  crumbs($("crumbs"), "My files", state.folder, (f) => {
    state.folder = f;
    loadMine();
  });
  $("drop-where").textContent = state.folder ? `${state.folder}/` : "your drive";
  const list = $("mine");
  const shown = children(files, state.folder);
  if (shown.length === 0) {
    list.replaceChildren(h("li", { class: "empty" }, h("span", { class: "hint" }, "No files here yet. Upload some.")));
    return;
  }
  list.replaceChildren(...shown.map((f) =>
    fileRow(f, () => ((state.folder = f.name), loadMine()), [
      f.is_dir ? null : h("a", {
        class: "btn small save",
        href: `api/file?name=${encodeURIComponent(f.name)}`,
        download: baseName(f.name),
      }, "Save"),
      h("button", { class: "btn small danger delete", type: "button", onclick: () => remove(f) }, "Delete"),
    ])
  ));
}

async function remove(f) {
  if (!confirm(`Delete ${f.name}${f.is_dir ? " and everything in it" : ""}?`)) return;
  try {
    await api("delete", { name: f.name });
    toast(`Deleted ${f.name}`);
  } catch (e) {
    toast(e.message, true);
  }
  loadMine();
}

/** Sends one file as the raw body (the browser streams it from disk), showing its progress. */
function upload(file, overwrite = false) {
  const name = state.folder ? `${state.folder}/${file.name}` : file.name;
  const bar = h("i", { style: "width:0%" });
  const meta = h("div", { class: "meta" }, `0 of ${bytes(file.size)}`);
  const badge = h("span", { class: "badge uploading" }, "uploading");
  const acts = h("div", { class: "acts" });
  const row = h(
    "li",
    { class: "transfer upload", dataset: { name, status: "active" } },
    h("div", { class: "head" }, h("span", { class: "dir" }, "↑"), h("span", { class: "name" }, name), badge),
    meta,
    h("div", { class: "bar" }, bar),
    acts,
  );
  $("uploads").prepend(row);
  const xhr = new XMLHttpRequest();
  const started = performance.now();
  xhr.open("PUT", `api/upload?name=${encodeURIComponent(name)}${overwrite ? "&overwrite=1" : ""}`);
  xhr.upload.onprogress = (e) => {
    const secs = (performance.now() - started) / 1000;
    const speed = e.loaded / Math.max(secs, 0.001);
    bar.style.width = `${e.total ? (100 * e.loaded) / e.total : 0}%`;
    meta.textContent = `${Math.floor(e.total ? (100 * e.loaded) / e.total : 0)}% · ${bytes(e.loaded)} of ${
      bytes(e.total)
    } · ${bytes(Math.round(speed))}/s · ETA ${duration((e.total - e.loaded) / speed)}`;
  };
  const end = (status, text) => {
    row.dataset.status = status;
    badge.className = `badge ${status}`;
    badge.textContent = status === "done" ? "uploaded" : "failed";
    meta.textContent = text;
    bar.style.width = status === "done" ? "100%" : bar.style.width;
  };
  xhr.onload = () => {
    let data = {};
    try {
      data = JSON.parse(xhr.responseText);
    } catch { /* not JSON: the status says it */ }
    if (xhr.status === 201) {
      // The file now shows in the list below: its upload row goes, so it is not shown twice.
      row.remove();
      toast(`Uploaded ${data.name} (${bytes(data.size)})`);
      loadMine();
    } else {
      end(
        "failed",
        data.code === "exists"
          ? `A file named ${name} is already here.`
          : data.error ?? `the node answered ${xhr.status}`,
      );
      if (xhr.status === 409 && !overwrite) {
        acts.append(
          h(
            "button",
            { class: "btn small", type: "button", onclick: () => (row.remove(), upload(file, true)) },
            "Replace",
          ),
        );
      }
      acts.append(h("button", { class: "btn small", type: "button", onclick: () => row.remove() }, "Dismiss"));
    }
  };
  xhr.onerror = () => end("failed", "the connection to the node broke");
  acts.append(
    h("button", { class: "btn small cancel", type: "button", onclick: () => (xhr.abort(), row.remove()) }, "Cancel"),
  );
  xhr.upload.onload = () => acts.replaceChildren();
  xhr.send(file);
}

$("upload").addEventListener("change", (e) => {
  for (const f of e.target.files) upload(f);
  e.target.value = "";
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  for (const f of e.dataTransfer.files) upload(f);
});

// ------------------------------------------------------------ another node

$("lookup").addEventListener("submit", (e) => {
  e.preventDefault();
  state.peer = $("peer").value.trim().toLowerCase();
  state.remoteFolder = "";
  loadTheirs();
});

async function loadTheirs() {
  const msg = $("remote-msg");
  msg.hidden = false;
  msg.textContent = `Asking ${state.peer}…`;
  $("theirs").replaceChildren();
  $("remote-bar").hidden = true;
  try {
    const { files, self } = await api(
      `remote?node=${encodeURIComponent(state.peer)}&path=${encodeURIComponent(state.remoteFolder)}`,
    );
    // This node's own files: shown, but nothing to download (they are here already).
    msg.hidden = !self;
    if (self) msg.textContent = `That's this node. Your own files are under Files; look up another node to download.`;
    renderTheirs(files, self === true);
  } catch (e) {
    msg.textContent = e.message;
  }
}

function renderTheirs(files, self) {
  $("remote-bar").hidden = false;
  $("remote-all").hidden = !state.remoteFolder || self;
  crumbs($("remote-crumbs"), state.peer, state.remoteFolder, (f) => {
    state.remoteFolder = f;
    loadTheirs();
  });
  const shown = children(files, state.remoteFolder);
  if (shown.length === 0) {
    $("theirs").replaceChildren(h("li", {}, h("span", { class: "hint" }, `${state.peer} shares nothing here.`)));
    return;
  }
  $("theirs").replaceChildren(...shown.map((f) =>
    fileRow(f, () => ((state.remoteFolder = f.name), loadTheirs()), [
      self ? null : h(
        "button",
        { class: "btn small primary get", type: "button", onclick: () => get(state.peer, f.name) },
        "Download",
      ),
    ])
  ));
}
$("remote-all").addEventListener("click", () => get(state.peer, state.remoteFolder));

/** Starts downloading `name` from `node` (over a file of that name here only when `overwrite`). */
async function get(node, name, overwrite = false) {
  try {
    const { transfer } = await api("download", { node, name, overwrite });
    if (transfer) put(transfer);
    toast(`Downloading ${name} from ${node}`);
  } catch (e) {
    refused(e, node, name, overwrite);
  }
}

/** A download the node would not start, said for a page: a file of that name here is offered to be replaced. */
function refused(e, node, name, overwrite) {
  if (e.code === "exists" && !overwrite) {
    return toast(`You already have ${baseName(name)}.`, true, [
      { label: "Replace mine", class: "replace", run: () => get(node, name, true) },
    ]);
  }
  const said = {
    self: `That's this node: ${name} is already here.`,
    unknown: `No node named ${node} is known to this node. Check the name.`,
    missing: `${node} has no file named ${name}.`,
    refused: `${node} does not let this node download from it.`,
  }[e.code];
  toast(said ?? e.message, true);
}

// ------------------------------------------------------------ transfers

const FINAL = new Set(["done", "failed", "cancelled"]);
let drawing = false;

function put(t) {
  const before = state.transfers.get(t.id);
  state.transfers.set(t.id, t);
  if (t.direction === "download" && t.status === "done" && before && before.status !== "done") loadMine();
  if (!drawing) {
    drawing = true;
    requestAnimationFrame(() => {
      drawing = false;
      renderTransfers();
    });
  }
}

function renderTransfers() {
  const all = [...state.transfers.values()];
  const moving = all.filter((t) => !FINAL.has(t.status)).sort((a, b) => a.started - b.started);
  const done = all.filter((t) => FINAL.has(t.status)).sort((a, b) => b.updated - a.updated).slice(0, 100);
  $("active").replaceChildren(...moving.map(card));
  $("finished").replaceChildren(...done.map(card));
  $("active-none").hidden = moving.length > 0;
  $("finished-none").hidden = done.length > 0;
  $("moving").hidden = moving.length === 0;
  $("moving").textContent = String(moving.length);
}

function card(t) {
  const down = t.direction === "download";
  const pct = t.size ? Math.min(100, (100 * t.bytes) / t.size) : t.status === "done" ? 100 : 0;
  const parts = [down ? `from ${t.peer}` : `to ${t.peer}`];
  if (t.files !== undefined) {
    parts.push(`a folder of ${t.files} file${t.files === 1 ? "" : "s"}`, bytes(t.size ?? 0), when(t.updated));
  } else if (t.status === "done") {
    parts.push(bytes(t.size ?? t.bytes));
    // The time it moved, not the time its peer was away.
    const secs = (t.moving_ms ?? t.updated - t.started) / 1000;
    if (t.size && secs > 0) parts.push(`${bytes(Math.round(t.size / secs))}/s average`);
    parts.push(when(t.updated));
  } else if (t.size !== null) {
    parts.push(`${Math.floor(pct)}%`, `${bytes(t.bytes)} of ${bytes(t.size)}`);
    if (t.status === "active") {
      parts.push(
        `${bytes(Math.round(t.speed))}/s`,
        `ETA ${t.speed > 0 ? duration((t.size - t.bytes) / t.speed) : "--"}`,
      );
    }
  } else if (t.status === "pending" || t.status === "active") parts.push("preparing…");
  const label =
    { active: down ? "downloading" : "sending", pending: "waiting", interrupted: "interrupted — will resume" }[
      t.status
    ] ?? t.status;
  const acts = [];
  if (down && !FINAL.has(t.status)) {
    acts.push(h("button", { class: "btn small cancel", type: "button", onclick: () => act("cancel", t) }, "Cancel"));
  }
  const exists = /already exists here|appeared here/.test(t.error ?? "");
  if (down && t.status === "failed" && exists) {
    acts.push(
      h("button", {
        class: "btn small replace",
        type: "button",
        onclick: () => get(t.peer, t.name, true),
      }, "Replace mine"),
    );
  } else if (down && (t.status === "failed" || t.status === "interrupted" || t.status === "cancelled")) {
    acts.push(h("button", { class: "btn small retry", type: "button", onclick: () => act("retry", t) }, "Retry"));
  }
  return h(
    "li",
    { class: "transfer", dataset: { id: t.id, name: t.name, status: t.status, direction: t.direction } },
    h(
      "div",
      { class: "head" },
      h("span", { class: "dir", title: t.direction }, down ? "↓" : "↑"),
      h("span", { class: "name", title: t.name }, t.name),
      h("span", { class: `badge ${t.status}` }, label),
    ),
    h("div", { class: "meta" }, parts.join(" · ")),
    FINAL.has(t.status) ? null : h("div", { class: "bar" }, h("i", { style: `width:${pct.toFixed(1)}%` })),
    t.error ? h("div", { class: "err" }, t.error) : null,
    h("div", { class: "acts" }, acts),
  );
}

async function act(what, t) {
  try {
    const { transfer } = await api(what, { id: t.id });
    if (transfer) put(transfer);
  } catch (e) {
    if (what === "retry") refused(e, t.peer, t.name, t.overwrite);
    else toast(e.message, true);
  }
}

/** Live progress: the node pushes every transfer, then what changes, over the WebSocket. */
function connect(delay = 500) {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url);
  ws.onopen = () => {
    $("live").textContent = "live";
    $("live").classList.add("on");
    delay = 500;
  };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.transfers) {
      state.transfers.clear();
      for (const t of m.transfers) put(t);
      renderTransfers();
    }
    for (const t of m.updates ?? []) put(t);
  };
  ws.onclose = () => {
    $("live").textContent = "offline";
    $("live").classList.remove("on");
    setTimeout(() => connect(Math.min(delay * 2, 10_000)), delay);
  };
}

// ------------------------------------------------------------ sharing

const PERMS = [
  ["list", "May list your files"],
  ["download", "May download your files"],
  ["push", "May push files to you"],
];

async function loadAllow() {
  try {
    state.allow = (await api("allow")).allow;
    renderAllow();
  } catch (e) {
    toast(e.message, true);
  }
}

function renderAllow() {
  $("allow").replaceChildren(...PERMS.map(([action, title]) =>
    h(
      "div",
      { class: "group", dataset: { action } },
      h("h3", {}, title),
      h(
        "div",
        { class: "chips" },
        state.allow[action].length === 0 ? h("span", { class: "nobody" }, "nobody") : state.allow[action].map((node) =>
          h(
            "span",
            { class: "chip", dataset: { node } },
            node === "*" ? "every node (*)" : node,
            h("button", {
              type: "button",
              title: `stop allowing ${node}`,
              onclick: () => allow(node, action, false),
            }, "×"),
          )
        ),
      ),
    )
  ));
}

async function allow(node, action, yes) {
  try {
    state.allow = (await api("allow", { node, action, allow: yes })).allow;
    renderAllow();
  } catch (e) {
    toast(e.message, true);
  }
}

$("allow-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const node = $("allow-node").value.trim().toLowerCase();
  allow(node, $("allow-action").value, true).then(() => ($("allow-node").value = ""));
});

// ------------------------------------------------------------ start

loadMine();
connect();
