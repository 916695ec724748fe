/**
 * `deno task compile`: the single binary with the distro packages (prebuilt
 * bundles) and the templates embedded. These machines cannot download Deno's
 * runtime stub (denort), so the test accepts either a binary that answers
 * --version and writes a template, or a compile that got as far as fetching
 * denort, everything before it (type check, distro builds) done.
 */
import { assert, assertMatch } from "./assert.ts";
import config from "../deno.json" with { type: "json" };
import { buildPackage, extractRuntime } from "../runtime/packages/build.ts";
import { cli } from "./cli_helpers.ts";

const REPO = new URL("../", import.meta.url).pathname;

Deno.test("deno task compile embeds what the CLI reads at run time and gets to the runtime stub", async () => {
  const task = (config.tasks as Record<string, string>).compile;
  for (const dir of ["packages", "templates", "register/ui", "runtime/host/worker.ts", "runtime/host/factory.ts"]) {
    assert(task.includes(`--include ${dir}`), `compile embeds ${dir}`);
  }
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile"],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  assertMatch(out, /built terminal:sys in \d+ ms/);
  assertMatch(out, /built tester:sys in \d+ ms/);
  if (r.success) {
    const bin = `${REPO}hyperdeno`;
    const v = await new Deno.Command(bin, { args: ["--version"], stdout: "piped" }).output();
    assertMatch(new TextDecoder().decode(v.stdout), /^hyperdeno \d/);
    const dir = await Deno.makeTempDir();
    const n = await new Deno.Command(bin, { args: ["new", `${dir}/app`, "-t", "echo"] }).output();
    assert(n.success && Deno.statSync(`${dir}/app/app/main.ts`).isFile, "the compiled binary writes templates");
    await Deno.remove(dir, { recursive: true });
  } else {
    assertMatch(out, /Compile main\.ts to hyperdeno/);
    assertMatch(out, /denort-x86_64-unknown-linux-gnu\.zip|denort/);
  }
});

Deno.test("a compiled hyperdeno's process_lib, written out of the binary, builds a package on its own", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-kit-extract-" });
  const runtime = extractRuntime(`${dir}/out`);
  assert(Deno.statSync(`${runtime}/process_lib/mod.ts`).isFile);
  const app = `${dir}/app`;
  assert((await cli("new", app, "-t", "echo")).code === 0);
  const r = await buildPackage(app, {
    check: true,
    imports: {
      "@hyperdeno/process_lib": `${runtime}/process_lib/mod.ts`,
      "@api/app:template.os": `${app}/api/app:template.os-v0.ts`,
    },
  });
  assert(r.built.includes("app"));
  const map = JSON.parse(await Deno.readTextFile(`${app}/pkg/app.js.map`)) as { sources: string[] };
  assert(map.sources.some((s) => s.includes("/out/runtime/process_lib/")), "bundled from the copy");
  assert(!map.sources.some((s) => s.includes(REPO.replace(/\/$/, ""))), "nothing from the checkout");
  await Deno.remove(dir, { recursive: true });
});
