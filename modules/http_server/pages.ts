/**
 * The node's own pages: login and home. Plain HTML and CSS rendered on the
 * server, nothing fetched from elsewhere, readable on a phone. Every value
 * from an app (label, path, widget) is escaped; a widget runs in an iframe
 * sandbox without same-origin, so it can neither read the session cookie nor
 * script the home page.
 */
import type { HomepageApp } from "../../runtime/api/http.ts";
import type { NodeInfo } from "./node_info.ts";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--ink:#1c1f24;--mute:#687080;--accent:#3b5bdb;--line:#e3e6eb}
@media (prefers-color-scheme:dark){:root{--bg:#15171a;--card:#1e2125;--ink:#e8eaed;--mute:#9aa1ab;--accent:#7b93ff;--line:#2c3035}}
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;justify-content:space-between;gap:1rem;padding:1rem 1.25rem;border-bottom:1px solid var(--line);background:var(--card)}
header h1{font-size:1.1rem;margin:0;font-weight:600}header .node{color:var(--mute);font-weight:400}
main{max-width:960px;margin:0 auto;padding:1.25rem}h2{font-size:.85rem;text-transform:uppercase;letter-spacing:.06em;color:var(--mute);margin:1.5rem 0 .75rem}
.apps{display:grid;grid-template-columns:repeat(auto-fill,minmax(120px,1fr));gap:.75rem}
.app{display:flex;flex-direction:column;align-items:center;gap:.5rem;padding:1rem .5rem;border-radius:14px;background:var(--card);border:1px solid var(--line);color:inherit;text-decoration:none;text-align:center}
.app:hover,.app:focus{border-color:var(--accent);outline:none}
.icon{width:56px;height:56px;border-radius:14px;display:grid;place-items:center;font-size:1.5rem;font-weight:600;color:#fff;background:var(--accent)}
.icon img{width:100%;height:100%;border-radius:14px;object-fit:cover}.label{font-size:.9rem;word-break:break-word}
.widgets{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:.75rem}
.widget{background:var(--card);border:1px solid var(--line);border-radius:14px;overflow:hidden}
.widget p{margin:0;padding:.5rem .75rem;font-size:.85rem;color:var(--mute);border-bottom:1px solid var(--line)}
.widget iframe{display:block;width:100%;height:220px;border:0;background:#fff}
.empty{color:var(--mute)}button,.btn{font:inherit;padding:.55rem 1rem;border-radius:10px;border:1px solid var(--line);background:var(--card);color:inherit;cursor:pointer}
.primary{background:var(--accent);border-color:var(--accent);color:#fff;width:100%}
.login{max-width:360px;margin:12vh auto;padding:1.5rem;background:var(--card);border:1px solid var(--line);border-radius:16px}
.login h1{font-size:1.25rem;margin:0 0 .25rem}.login p{color:var(--mute);margin:0 0 1rem}
input{font:inherit;width:100%;padding:.6rem .75rem;border-radius:10px;border:1px solid var(--line);background:var(--bg);color:inherit;margin:.25rem 0 1rem}
.error{color:#d9480f;margin:0 0 1rem}
.info{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:.75rem 1rem;display:grid;grid-template-columns:auto 1fr;gap:.35rem 1rem;margin:0;font-size:.95rem}
.info dt{color:var(--mute)}.info dd{margin:0;overflow-wrap:anywhere}.info details summary{cursor:pointer}
.info ul{margin:.35rem 0 0;padding-left:1.1rem}`;

export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head><body>${body}</body></html>`;
}

/** The login form; `token` (auth.ts formToken) is what makes a browser's POST count. */
export function loginPage(node: string, redirect: string, error: string | null, token: string): string {
  return page(
    `Log in · ${node}`,
    `<form class="login" method="post" action="/login">
<h1>${escapeHtml(node)}</h1><p>Enter this node's password.</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ""}
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus required>
<input type="hidden" name="redirect" value="${escapeHtml(redirect)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button class="primary" type="submit">Log in</button></form>`,
  );
}

/**
 * The home page. A tile links to its app's path on the node, which sends the
 * browser on to the app's own origin; `pageToken` goes with the logout form.
 */
export function homePage(node: string, apps: HomepageApp[], pageToken: string, info: NodeInfo): string {
  const tiles = apps.map((a) => {
    const href = `/${a.process}${a.path && a.path !== "/" ? a.path : "/"}`;
    const icon = a.icon ? `<img src="${escapeHtml(a.icon)}" alt="">` : escapeHtml(a.label.slice(0, 1).toUpperCase());
    return `<a class="app" href="${escapeHtml(href)}"><span class="icon">${icon}</span>` +
      `<span class="label">${escapeHtml(a.label)}</span></a>`;
  }).join("");
  const widgets = apps.filter((a) => a.widget).map((a) =>
    `<section class="widget"><p>${escapeHtml(a.label)}</p>` +
    `<iframe sandbox="allow-scripts" srcdoc="${escapeHtml(a.widget!)}" title="${
      escapeHtml(a.label)
    }"></iframe></section>`
  ).join("");
  return page(
    node,
    `<header><h1>hyperdeno <span class="node">${escapeHtml(node)}</span></h1>
<form method="post" action="/logout"><input type="hidden" name="token" value="${escapeHtml(pageToken)}">
<button type="submit">Log out</button></form></header>
<main><h2>This node</h2>${infoPanel(node, info)}<h2>Apps</h2>${
      tiles
        ? `<nav class="apps">${tiles}</nav>`
        : `<p class="empty">No apps have put themselves on the home page yet.</p>`
    }
${widgets ? `<h2>Widgets</h2><div class="widgets">${widgets}</div>` : ""}</main>`,
  );
}

/** The node's name, version and the peers linked now (their names listed under a fold, for a phone). */
function infoPanel(node: string, info: NodeInfo): string {
  const peers = info.peers === null
    ? `<span class="empty">unknown (net did not answer)</span>`
    : info.peers.length === 0
    ? `<span class="empty">none linked now</span>`
    : `<details><summary>${info.peers.length} linked now</summary><ul>${
      info.peers.map((p) => `<li>${escapeHtml(p)}</li>`).join("")
    }</ul></details>`;
  return `<dl class="info" id="node-info"><dt>Name</dt><dd>${escapeHtml(node)}</dd>` +
    `<dt>Version</dt><dd>hyperdeno ${escapeHtml(info.version)}</dd><dt>Peers</dt><dd id="peers">${peers}</dd></dl>`;
}
