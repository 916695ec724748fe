// Downloads in flight and ended: progress, the mirror, what each mirror tried did.
import { api, el } from "./api.js";

export async function renderDownloads(view) {
  const table = el("table", { id: "downloads" });
  view.append(el("h2", {}, "Downloads"), table);
  const draw = async () => {
    const list = await api("downloads");
    table.replaceChildren(
      el("tr", {}, el("th", {}, "App"), el("th", {}, "Progress"), el("th", {}, "Mirror"), el("th", {}, "Status")),
      ...list.map((d) =>
        el(
          "tr",
          { "data-app": d.id },
          el("td", {}, d.id),
          el("td", {}, el("progress", { max: d.total || 1, value: d.downloaded })),
          el("td", {}, d.mirror ?? ""),
          el(
            "td",
            {},
            d.status,
            d.error ? el("div", { class: "error" }, d.error) : "",
            d.tries.length ? el("div", { class: "muted" }, d.tries.map((t) => t.join(": ")).join("; ")) : "",
          ),
        )
      ),
    );
    if (!list.length) table.append(el("tr", {}, el("td", {}, "No downloads.")));
  };
  await draw();
  const t = setInterval(() => draw().catch(() => {}), 500);
  return () => clearInterval(t);
}
