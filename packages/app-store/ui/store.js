// The store: the apps on chain, searchable, as cards.
import { api, el, idOf } from "./api.js";

export async function renderStore(view) {
  const { apps, chain } = await api("apps");
  const search = el("input", { type: "search", placeholder: "Search apps", "aria-label": "Search apps" });
  const cards = el("div", { class: "cards", id: "cards" });
  const show = () => {
    const q = search.value.trim().toLowerCase();
    const hits = apps.filter((a) =>
      !q || [idOf(a), a.metadata?.name, a.metadata?.description].some((t) => String(t ?? "").toLowerCase().includes(q))
    );
    cards.replaceChildren(...hits.map(card));
    if (!hits.length) {
      cards.append(el("p", { class: "muted" }, apps.length ? "No app matches." : "No apps listed yet."));
    }
  };
  search.addEventListener("input", show);
  view.append(
    search,
    chain ? "" : el("p", { class: "warn" }, "The chain index is not running: no apps to list."),
    cards,
  );
  show();
}

function card(a) {
  const id = idOf(a);
  return el(
    "a",
    {
      class: "card",
      href: `#/app/${encodeURIComponent(id)}`,
      "data-app": id,
      style: "text-decoration:none;color:inherit",
    },
    el("h3", {}, a.metadata?.name ?? id),
    el("div", { class: "muted" }, `${id} · v${a.metadata?.properties?.current_version ?? "?"}`),
    el("p", {}, a.metadata?.description ?? ""),
  );
}
