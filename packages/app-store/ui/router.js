// One view per hash: #/ (store), #/app/<id>, #/downloads, #/installed, #/publish.
import { renderStore } from "./store.js";
import { renderApp } from "./app.js";
import { renderDownloads } from "./downloads.js";
import { renderInstalled } from "./installed.js";

const view = document.getElementById("view");
let stop = null;

async function route() {
  stop?.();
  stop = null;
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, ...rest] = hash.split("/");
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("on", a.dataset.view === (name || "store"));
  view.replaceChildren();
  try {
    if (name === "app") stop = await renderApp(view, decodeURIComponent(rest.join("/")));
    else if (name === "downloads") stop = await renderDownloads(view);
    else if (name === "installed") stop = await renderInstalled(view);
    else if (name === "publish") stop = await renderPublish(view);
    else stop = await renderStore(view);
  } catch (e) {
    view.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: e.message }));
  }
}

async function renderPublish(view) {
  try {
    const m = await import("./publish.js");
    return await m.renderPublish(view);
  } catch {
    view.textContent = "Publishing from the page is not in this build: use `hyperdeno publish`.";
  }
}

addEventListener("hashchange", route);
route();
