/**
 * The registration pages: one document whose sections register/ui/register.js shows in turn, as the book's
 * "Registering an Identity" goes: connect a wallet, choose a name, direct or indirect, the wallet's transactions, a
 * password, then the home page. Also logging in to the node this home holds, importing a keyfile, and resetting a
 * name's networking notes. Plain HTML in the node's own style; the script is served by the node, nothing else is
 * fetched.
 */
import { page } from "../modules/http_server/pages.ts";

const EXTRA = `<style>
.setup{max-width:520px;margin:6vh auto;padding:1.5rem;background:var(--card);border:1px solid var(--line);border-radius:16px}
.setup h1{font-size:1.25rem;margin:0 0 .25rem}.setup h2{margin:1.25rem 0 .5rem}.setup p{color:var(--mute);margin:.25rem 0 1rem}
.choices{display:grid;gap:.6rem}.row{display:flex;gap:.5rem;align-items:center}.row input{margin:0;width:auto}
[hidden]{display:none!important}.ok{color:#2b8a3e}.note{font-size:.85rem;color:var(--mute)}
textarea{font:inherit;width:100%;min-height:4.5rem;padding:.6rem .75rem;border-radius:10px;border:1px solid var(--line);background:var(--bg);color:inherit;margin:.25rem 0 1rem}
code{word-break:break-all}</style>`;

export function setupPage(): string {
  return page(
    "hyperdeno: register or log in",
    `${EXTRA}<main class="setup">
<h1>hyperdeno</h1><p id="chain">Reading the chain…</p>
<p class="error" id="error" role="alert" hidden></p>
<p id="status" role="status" hidden></p>

<section id="start" hidden><div class="choices">
<button class="primary" id="go-register">Register .os name</button>
<button id="go-login" hidden>Log in</button>
<button id="go-import">Import keyfile</button>
<button id="go-reset">Reset name</button></div></section>

<section id="wallet" hidden><h2>Connect a wallet</h2>
<p>Your wallet sends the transactions and pays for them; the node never holds its keys.</p>
<button class="primary" id="connect">Connect wallet</button></section>

<section id="choose" hidden><h2 id="choose-title">Choose a name for your node</h2>
<p>Wallet <code id="account"></code></p>
<label for="name">Name</label><input id="name" autocomplete="off" spellcheck="false" placeholder="alice.os">
<p class="note" id="name-status"></p>
<fieldset style="border:0;padding:0;margin:0 0 1rem">
<label class="row"><input type="radio" name="routing" id="indirect" checked> Indirect: reached through routers (most users)</label>
<label class="row"><input type="radio" name="routing" id="direct"> Direct: a static IP and ports, published on chain</label></fieldset>
<div id="indirect-options"><label for="routers">Routers (one a line, chosen from chain)</label><textarea id="routers" spellcheck="false"></textarea></div>
<div id="direct-options" hidden><label for="ip">IP address</label><input id="ip" spellcheck="false">
<p class="note">TCP port <span id="tcp-port"></span>, WebSocket port <span id="ws-port"></span>: open them to the internet.</p></div>
<button class="primary" id="register" disabled>Register</button>
<button class="primary" id="reset" hidden disabled>Reset networking notes</button></section>

<section id="password-step" hidden><h2>Set a password for <span id="password-name"></span></h2>
<p>It encrypts the node's networking key, and logs you in.</p>
<label for="password">Password</label><input id="password" type="password" autocomplete="new-password" minlength="6">
<label for="password2">Confirm password</label><input id="password2" type="password" autocomplete="new-password" minlength="6">
<button class="primary" id="set-password">Set password and boot</button></section>

<section id="login-step" hidden><h2>Log in to <span id="login-name"></span></h2>
<label for="login-password">Password</label><input id="login-password" type="password" autocomplete="current-password">
<button class="primary" id="login">Log in</button></section>

<section id="import-step" hidden><h2>Import a keyfile</h2>
<p>A keyfile from this node's registration, a Hyperdrive node's, or a hyperdeno keys.json.</p>
<label for="keyfile">Keyfile</label><input id="keyfile" type="file">
<label for="import-name">Node name</label><input id="import-name" spellcheck="false" placeholder="alice.os">
<label for="import-password">Password</label><input id="import-password" type="password" autocomplete="current-password">
<button class="primary" id="import">Boot node</button></section>
</main><script src="/register.js" defer></script>`,
  );
}
