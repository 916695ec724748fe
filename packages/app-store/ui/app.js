// An app's page: description, version, publisher, mirrors, and download / install (with the consent dialog).
import { api, el } from "./api.js";
import { askConsent } from "./consent.js";

export async function renderApp(view, id) {
  const { app, installed, files, mirroring } = await api(`app?id=${encodeURIComponent(id)}`);
  const meta = app?.metadata;
  const p = meta?.properties;
  const hash = p?.code_hashes?.find?.(([v]) => v === p.current_version)?.[1];
  const have = files.some((f) => f.File?.name === `${hash}.zip`);
  const status = el("p", { id: "status", class: "muted" });
  const mirrors = [...new Set([p?.publisher, ...(p?.mirrors ?? [])].filter(Boolean))];
  view.append(
    el("h2", {}, meta?.name ?? id),
    el("p", {}, meta?.description ?? ""),
    el(
      "table",
      {},
      row("Package", id),
      row("Version", p?.current_version ?? "—"),
      row("Publisher", p?.publisher ?? id.split(":")[1]),
      row("Mirrors", mirrors.join(", ") || "—"),
      row("Code hash", el("code", {}, hash ?? "—")),
      row("Installed", installed ? `yes (${installed.version ?? installed.version_hash.slice(0, 12)})` : "no"),
    ),
  );
  const download = el("button", { id: "download", class: "primary" }, have ? "Downloaded" : "Download");
  download.disabled = have || !hash;
  download.addEventListener("click", async () => {
    download.disabled = true;
    try {
      await api("download", { id });
      status.textContent = "Downloading… (see Downloads)";
      await waitDownloaded(id, hash, status);
      install.disabled = false;
    } catch (e) {
      status.textContent = e.message;
      status.className = "error";
      download.disabled = false;
    }
  });
  const install = el("button", { id: "install" }, installed?.version_hash === hash ? "Installed" : "Install");
  install.disabled = !have || installed?.version_hash === hash;
  install.addEventListener("click", async () => {
    try {
      const c = await api("consent", { id, version_hash: hash });
      const approved = await askConsent(c, meta?.name ?? id);
      if (!approved) return void (status.textContent = "Not installed: nothing was granted.");
      await api("install", { id, version_hash: hash, approve: c.requested });
      status.textContent = `Installed ${id}.`;
      install.disabled = true;
      install.textContent = "Installed";
    } catch (e) {
      status.textContent = e.message;
      status.className = "error";
    }
  });
  const mirror = el(
    "label",
    {},
    el("input", { type: "checkbox", id: "mirror", checked: mirroring }),
    " Mirror it for others",
  );
  mirror.querySelector("input").addEventListener("change", (e) => api("mirror", { id, on: e.target.checked }));
  view.append(el("p", {}, download, " ", install, " ", mirror), status);
}

function row(k, v) {
  return el("tr", {}, el("th", {}, k), el("td", {}, v));
}

async function waitDownloaded(id, hash, status) {
  for (;;) {
    const d = (await api("downloads")).find((x) => x.id === id && x.version_hash === hash);
    if (d?.status === "done") return void (status.textContent = `Downloaded from ${d.mirror}; SHA-256 verified.`);
    if (d?.status === "failed") {
      throw new Error(`Download failed: ${d.error} (${d.tries.map((t) => t.join(": ")).join("; ")})`);
    }
    if (d) status.textContent = `Downloading from ${d.mirror}: ${d.downloaded} of ${d.total || "?"} bytes`;
    await new Promise((r) => setTimeout(r, 300));
  }
}
