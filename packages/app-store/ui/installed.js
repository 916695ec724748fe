// My Apps: what is installed from the store, updates waiting (approved here), auto-update, uninstall.
import { api, el } from "./api.js";
import { askConsent } from "./consent.js";

export async function renderInstalled(view) {
  const list = await api("installed");
  view.append(el("h2", {}, "My Apps"));
  if (!list.length) view.append(el("p", { class: "muted" }, "Nothing installed from the store yet."));
  for (const i of list) view.append(entry(i));
}

function entry(i) {
  const status = el("span", { class: "muted" });
  const auto = el("input", { type: "checkbox", class: "auto-update", checked: i.auto_update });
  auto.addEventListener(
    "change",
    () => api("auto-update", { id: i.id, on: auto.checked }).catch((e) => status.textContent = e.message),
  );
  const uninstall = el("button", { class: "uninstall" }, "Uninstall");
  uninstall.addEventListener("click", async () => {
    if (!confirm(`Uninstall ${i.id}? Its processes stop and its code is removed.`)) return;
    await api("uninstall", { id: i.id });
    card.remove();
  });
  const card = el(
    "div",
    { class: "card", "data-app": i.id },
    el("h3", {}, i.name ?? i.id),
    el("div", { class: "muted" }, `${i.id} · ${i.version ?? i.version_hash.slice(0, 12)}`),
    el("p", {}, el("label", {}, auto, " Auto-update"), " ", uninstall),
    status,
  );
  if (i.pending) {
    const update = el("button", { class: "update primary" }, "Update");
    update.addEventListener("click", async () => {
      const c = await api("consent", { id: i.id, version_hash: i.pending.version_hash });
      if (!await askConsent(c, i.name ?? i.id)) return;
      await api("install", { id: i.id, version_hash: i.pending.version_hash, approve: c.requested });
      status.textContent = "Updated.";
      update.remove();
    });
    card.append(
      el(
        "p",
        { class: "warn" },
        i.pending.new_requests.length ? "Update asks for more: " + i.pending.new_requests.join("; ") : "Update ready.",
      ),
      update,
    );
  }
  return card;
}
