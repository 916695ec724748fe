/** `new` (n): a package from a template, as `kit new`: TypeScript (or JavaScript) instead of Rust. */
import { type CommandSpec, parseFlags, UsageError } from "./flags.ts";
import {
  examplePackage,
  fillTemplate,
  hasUiVersion,
  type Language,
  LANGUAGES,
  templateExists,
  TEMPLATES,
  type UiKind,
} from "./templates.ts";

export const spec: CommandSpec = {
  name: "new",
  summary: "Create a hyperdeno template package",
  usage: "hyperdeno new [OPTIONS] <DIR>",
  positionals: [{
    name: "<DIR>",
    help: "Path to create template directory at (must contain only a-z, 0-9, `-`)",
    required: true,
  }],
  flags: [
    {
      long: "package",
      short: "a",
      value: "PACKAGE",
      help: "Name of the package (must contain only a-z, 0-9, `-`) [default: DIR]",
    },
    {
      long: "publisher",
      short: "u",
      default: "template.os",
      value: "PUBLISHER",
      help: "Name of the publisher (must contain only a-z, 0-9, `-`, `.`)",
    },
    {
      long: "language",
      short: "l",
      default: "typescript",
      value: "LANGUAGE",
      help: `Programming language of the template [possible values: ${LANGUAGES.join(", ")}]`,
    },
    {
      long: "template",
      short: "t",
      default: "chat",
      value: "TEMPLATE",
      help: `Template to create [possible values: ${
        TEMPLATES.join(", ")
      }, or an example app of packages/ such as ping]`,
    },
    {
      long: "ui",
      bool: true,
      help: "If set, use the template with UI (chat has one): Vite + React + TypeScript in ui/, built with npm",
    },
    {
      long: "plain-ui",
      bool: true,
      help: "If set, use the template with UI as plain static files: nothing to install, no Node.js needed",
    },
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const dir = positionals[0].replace(/\/+$/, "");
  const base = dir.slice(dir.lastIndexOf("/") + 1);
  const packageName = String(flags.package ?? base);
  const publisher = String(flags.publisher);
  const language = String(flags.language).toLowerCase();
  const template = String(flags.template);
  if (!/^[a-z0-9-]+$/.test(packageName)) {
    throw new UsageError(
      `package name "${packageName}" must contain only a-z, 0-9 and -: pick another DIR or pass --package`,
    );
  }
  if (!/^[a-z0-9.-]+$/.test(publisher)) {
    throw new UsageError(`publisher "${publisher}" must contain only a-z, 0-9, - and .`);
  }
  if (!LANGUAGES.includes(language as Language)) {
    throw new UsageError(
      `hyperdeno writes processes in ${LANGUAGES.join(" or ")}, not ${language} (nodes run JavaScript, not Wasm)`,
    );
  }
  if (!(TEMPLATES as readonly string[]).includes(template) && !examplePackage(template)) {
    throw new UsageError(`no template "${template}": pick one of ${TEMPLATES.join(", ")}`);
  }
  if (!templateExists(template)) {
    throw new UsageError(
      `the ${template} template is not in this hyperdeno yet (its app is being written in packages/${template}); pick one of ${
        TEMPLATES.filter(templateExists).join(", ")
      }`,
    );
  }
  const ui: UiKind = flags["plain-ui"] ? "plain" : flags.ui ? "vite" : false;
  if (ui && !hasUiVersion(template)) {
    throw new UsageError(`the ${template} template has no UI version; --ui and --plain-ui work with chat`);
  }
  try {
    if ([...Deno.readDirSync(dir)].length > 0) {
      throw new UsageError(`${dir} already exists and is not empty: pick a new DIR`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const files = fillTemplate(template, {
    ui,
    packageName,
    publisher,
    language: language as Language,
  });
  for (const [rel, bytes] of files) {
    const path = `${dir}/${rel}`;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeFileSync(path, bytes);
  }
  if (language === "javascript") {
    await tidy([...files.keys()].filter((p) => p.endsWith(".js")).map((p) => `${dir}/${p}`));
  }
  const hasTests = [...files.keys()].includes("test/tests.toml");
  console.log(
    `created ${dir}: ${template}${
      ui ? ` with ${ui === "vite" ? "a Vite + React UI" : "a plain UI"}` : ""
    } in ${language}, package ${packageName}:${publisher}\n` +
      `next: hyperdeno build ${dir} && hyperdeno start-package ${dir}` +
      (ui === "vite"
        ? `\n      hyperdeno dev-ui ${dir}    (its UI with hot reloading, proxied to the node on 8080)`
        : "") +
      (hasTests
        ? `\n      hyperdeno run-tests ${dir}    (its tests, in ${dir}/test/; stop fake nodes on 8080/8081 first)`
        : ""),
  );
  return 0;
}

/** Formats the JavaScript made from the templates (erased types leave runs of spaces); skipped if deno fmt is missing. */
async function tidy(paths: string[]) {
  if (!paths.length) return;
  try {
    await new Deno.Command(/(^|\/)deno$/.test(Deno.execPath()) ? Deno.execPath() : "deno", {
      args: ["fmt", "--quiet", "--line-width", "120", ...paths],
      stdout: "null",
      stderr: "null",
    }).output();
  } catch { /* still valid JavaScript, only spaced */ }
}
