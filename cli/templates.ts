/**
 * The templates `new` writes, in templates/<language>/<template>/: files whose
 * paths and text say __PACKAGE__ and __PUBLISHER__, filled in with the new
 * package's names. A template's UI version is its folder plus <template>-ui/
 * laid over it: its ui/ is the book's Vite + React + TypeScript app (package.json with its package-lock.json,
 * built by `build` with npm), or, as `--plain-ui`, <template>-plain-ui/'s static files (nothing to install); _shared/ holds what every template has (metadata.json, a
 * .gitignore for build outputs, and its test package's metadata and tester_lib.ts). JavaScript is made from the
 * TypeScript by erasing the types (node:module's stripTypeScriptTypes), so
 * both read the same; the API in api/ stays TypeScript: it is the types
 * other packages import.
 *
 * An example app of the checkout's packages/ (file-transfer, ping) is a
 * template too: its source is copied with its package name and publisher
 * replaced by the new ones, in paths and text.
 */
import { stripTypeScriptTypes } from "node:module";
import { isDir } from "../runtime/fs.ts";

const ROOT = new URL("../templates/typescript/", import.meta.url).pathname;
const PACKAGES = new URL("../packages/", import.meta.url).pathname;
export const LANGUAGES = ["typescript", "javascript"] as const;
export type Language = typeof LANGUAGES[number];
/** kit's templates; a name here with neither a template folder nor an example package is not shipped yet. */
export const TEMPLATES = ["blank", "chat", "echo", "fibonacci", "file-transfer"] as const;

export function templateExists(name: string): boolean {
  return isDir(`${ROOT}${name}`) || examplePackage(name) !== null;
}

/** Which UI a new package gets: none, the Vite app (`--ui`), or plain static files (`--plain-ui`). */
export type UiKind = false | "vite" | "plain";

export function hasUiVersion(name: string): boolean {
  return isDir(`${ROOT}${name}-ui`);
}

/** The example package `name` in packages/ (not the node's own, published by sys), as a template. */
export function examplePackage(name: string): { dir: string; packageName: string; publisher: string } | null {
  if (!/^[a-z0-9-]+$/.test(name)) return null;
  try {
    const meta = JSON.parse(Deno.readTextFileSync(`${PACKAGES}${name}/metadata.json`)).properties;
    if (meta.publisher === "sys" || meta.package_name !== name) return null;
    return { dir: `${PACKAGES}${name}`, packageName: meta.package_name, publisher: meta.publisher };
  } catch {
    return null;
  }
}

/** Build outputs and test homes of an example package, which a new package does not start with. */
const NOT_SOURCE = /(^|\/)(target|home)\/|(^|\/)pkg\/(api|ui)\/|\.js\.map$|(^|\/)pkg\/[^/]+\.js$/;

/**
 * An example package's source under the new package id: `<package>:<publisher>`
 * is replaced wherever it appears (process ids, VFS paths, API file names);
 * process names stay (file-transfer:my-app:template.os), so nothing else in
 * its text, a protocol's words included, changes.
 */
function fillFromPackage(
  example: { dir: string; packageName: string; publisher: string },
  opts: { packageName: string; publisher: string },
): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const from = `${example.packageName}:${example.publisher}`;
  const to = `${opts.packageName}:${opts.publisher}`;
  walk(example.dir, (rel) => {
    if (NOT_SOURCE.test(rel)) return;
    let text = Deno.readTextFileSync(`${example.dir}/${rel}`).replaceAll(from, to);
    if (rel === "metadata.json") {
      const meta = JSON.parse(text);
      meta.name = opts.packageName;
      meta.properties = { ...meta.properties, package_name: opts.packageName, publisher: opts.publisher };
      text = JSON.stringify(meta, null, 2) + "\n";
    }
    files.set(rel.replaceAll(from, to), new TextEncoder().encode(text));
  });
  return files;
}

/** The new package's files: the template (with its UI overlay), the shared files, names filled in. */
export function fillTemplate(
  template: string,
  opts: { ui: UiKind; packageName: string; publisher: string; language: Language },
): Map<string, Uint8Array> {
  const example = isDir(`${ROOT}${template}`) ? null : examplePackage(template);
  if (example) {
    const files = fillFromPackage(example, opts);
    return opts.language === "javascript" ? toJavaScript(files) : files;
  }
  const files = new Map<string, Uint8Array>();
  const fill = (text: string) =>
    text.replaceAll("__PACKAGE__", opts.packageName).replaceAll("__PUBLISHER__", opts.publisher);
  const add = (from: string, to: string) =>
    files.set(fill(to), new TextEncoder().encode(fill(Deno.readTextFileSync(from))));
  walk(`${ROOT}${template}`, (rel) => add(`${ROOT}${template}/${rel}`, rel));
  if (opts.ui) {
    walk(`${ROOT}${template}-ui`, (rel) => {
      // A developer's npm run in the template leaves its install and build beside the sources: never copied.
      if (opts.ui === "plain" && rel.startsWith("ui/") || /^ui\/(node_modules|dist)\//.test(rel)) return;
      add(`${ROOT}${template}-ui/${rel}`, rel);
    });
    if (opts.ui === "plain") {
      walk(`${ROOT}${template}-plain-ui`, (rel) => add(`${ROOT}${template}-plain-ui/${rel}`, rel));
    }
  }
  add(`${ROOT}_shared/metadata.json`, "metadata.json");
  add(`${ROOT}_shared/gitignore`, ".gitignore");
  const testPkg = `test/${opts.packageName}-test`;
  if ([...files.keys()].some((p) => p.startsWith(`${testPkg}/`))) {
    add(`${ROOT}_shared/test_metadata.json`, `${testPkg}/metadata.json`);
    add(`${ROOT}_shared/tester_lib.ts`, `${testPkg}/${opts.packageName}-test/tester_lib.ts`);
  }
  return opts.language === "javascript" ? toJavaScript(files) : files;
}

function walk(dir: string, f: (rel: string) => void, rel = "") {
  for (const e of Deno.readDirSync(rel ? `${dir}/${rel}` : dir)) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) walk(dir, f, r);
    else if (e.isFile) f(r);
  }
}

/** Each process's .ts becomes .js with its types erased; imports of sibling .ts files follow. */
function toJavaScript(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  for (const [path, bytes] of files) {
    // The Vite UI stays TypeScript, as the book's is: tsc checks it when it is built.
    if (!path.endsWith(".ts") || path.startsWith("api/") || path.startsWith("ui/") || path.endsWith(".d.ts")) {
      out.set(path, bytes);
      continue;
    }
    // Imports of sibling files follow them to .js; those of api/ stay .ts, as api/ does.
    const js = stripTypeScriptTypes(dec.decode(bytes), { mode: "strip" })
      .replace(/(from\s+"(\.{1,2}\/)+(?!api\/)[^"]+)\.ts"/g, '$1.js"');
    out.set(path.replace(/\.ts$/, ".js"), enc.encode(js));
  }
  return out;
}
