/**
 * A package's npm-built UI (ui/package.json, as `new --ui` writes it: Vite, React, TypeScript): installed with
 * npm from its lockfile and built with `npm run build` into ui/dist/, which `build` puts in pkg/ui/. It tolerates
 * being offline: an install that matches the lockfile is not redone, npm prefers its cache, and with no registry
 * and no fresh install the UI built last time (ui/dist/) is used, said in one line.
 */
import { isFile } from "../runtime/fs.ts";
import { BuildFailed } from "../runtime/errors.ts";

/** Written into ui/node_modules/ after an install: the hash of the package.json and lockfile it installed. */
const STAMP = "node_modules/.hyperdeno-installed";
/** npm's error codes for a registry it cannot reach. */
const OFFLINE = /\b(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ECONNRESET)\b/;

export function hasNpmUi(dir: string): boolean {
  return isFile(`${dir}/ui/package.json`);
}

/** What the UI's install is made from: package.json and the lockfile (if any). */
async function installHash(ui: string): Promise<string> {
  const lock = isFile(`${ui}/package-lock.json`) ? Deno.readTextFileSync(`${ui}/package-lock.json`) : "";
  const bytes = new TextEncoder().encode(`${Deno.readTextFileSync(`${ui}/package.json`)}\0${lock}`);
  return Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

async function npm(ui: string, args: string[], env: Record<string, string> = {}) {
  try {
    return await new Deno.Command("npm", { args, cwd: ui, env, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

const NO_NPM = "npm is not installed (ui/package.json needs it): install Node.js 20 or later, which brings npm";

/**
 * Installs ui/node_modules unless it already matches package.json and the lockfile (`npm ci`, or `npm install`
 * when there is no lockfile). Returns false, having said why in one line, when npm or its registry is not there
 * and a UI built before (ui/dist/) can stand in; throws when nothing can.
 */
export async function installUi(dir: string, say: (line: string) => void): Promise<boolean> {
  const ui = `${dir}/ui`;
  const hash = await installHash(ui);
  if (isFile(`${ui}/${STAMP}`) && Deno.readTextFileSync(`${ui}/${STAMP}`) === hash) {
    say("ui: dependencies up to date (ui/node_modules matches package-lock.json)");
    return true;
  }
  const ci = isFile(`${ui}/package-lock.json`);
  say(`ui: ${ci ? "npm ci (ui/node_modules from package-lock.json)" : "npm install (no package-lock.json yet)"}`);
  // --prefer-offline: whatever npm's cache holds is not asked for again, so a machine offline that installed
  // these versions once installs them again.
  const out = await npm(ui, [ci ? "ci" : "install", "--prefer-offline", "--no-audit", "--no-fund"]);
  const dist = isFile(`${ui}/dist/index.html`);
  if (!out) {
    if (!dist) throw new BuildFailed(`${NO_NPM}, or build with --no-ui`);
    say(`ui: ${NO_NPM}; using the UI built before, ui/dist/`);
    return false;
  }
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr);
    const offline = OFFLINE.exec(err)?.[1];
    if (offline) {
      const why = `npm cannot reach its registry (${offline})`;
      if (!dist) throw new BuildFailed(`ui: ${why} and no UI was built before (ui/dist/): connect and build again`);
      say(`ui: ${why}; using the UI built before, ui/dist/ (connect and build again to rebuild it)`);
      return false;
    }
    console.error(err.trimEnd());
    throw new BuildFailed(`ui: npm ${ci ? "ci" : "install"} failed (above): fix ui/package.json and build again`);
  }
  Deno.writeTextFileSync(`${ui}/${STAMP}`, await installHash(ui));
  return true;
}

/** `npm run build` in ui/ (the template's: tsc, then vite build into ui/dist/); its output is shown if it fails. */
export async function buildUi(dir: string, say: (line: string) => void) {
  const ui = `${dir}/ui`;
  say("ui: npm run build (ui/dist/)");
  const out = await npm(ui, ["run", "build"]);
  if (!out) throw new BuildFailed(NO_NPM);
  if (!out.success) {
    const dec = new TextDecoder();
    console.error(`${dec.decode(out.stdout)}${dec.decode(out.stderr)}`.trimEnd());
    throw new BuildFailed("ui: npm run build failed (its errors above): fix ui/ and build again");
  }
  if (!isFile(`${ui}/dist/index.html`)) {
    throw new BuildFailed("ui: npm run build wrote no ui/dist/index.html: its build must put the UI in ui/dist/");
  }
}

/** Installs (if needed) and builds the package's npm UI, or says why the one built before stands in. */
export async function buildNpmUi(dir: string, say: (line: string) => void) {
  if (await installUi(dir, say)) await buildUi(dir, say);
}
