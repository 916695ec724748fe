/**
 * The key under which a passed type check is remembered: the same bytes give the same key wherever the package and
 * the runtime lie (a new checkout, a CI copy, a template made in a new folder), and any byte the checker reads
 * changes it.
 */
import { assert, assertEquals } from "./assert.ts";
import { checkKey } from "../runtime/packages/check_cache.ts";
import { extractRuntime } from "../runtime/packages/build.ts";

/** A package at `dir` whose import map points at the runtime in `runtime` and at a dependency's API in `outside`. */
function makePackage(dir: string, runtime: string, outside: string): { entry: string; map: string } {
  Deno.mkdirSync(`${dir}/app/src`, { recursive: true });
  Deno.mkdirSync(`${dir}/target`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/app/src/main.ts`, `import { x } from "./x.ts";\nexport const y: number = x;\n`);
  Deno.writeTextFileSync(`${dir}/app/src/x.ts`, "export const x = 1;\n");
  Deno.writeTextFileSync(`${dir}/target/features.ts`, "export const FEATURES: readonly string[] = [];\n");
  const map = `${dir}/target/import_map.json`;
  Deno.writeTextFileSync(
    map,
    JSON.stringify({
      imports: {
        "@hyperdeno/process_lib": `file://${runtime}/process_lib/mod.ts`,
        "@hyperdeno/features": `file://${dir}/target/features.ts`,
        "dep": `file://${outside}`,
      },
    }),
  );
  return { entry: `${dir}/app/src/main.ts`, map };
}

Deno.test("check cache: a key is the bytes read, not where they lie; any changed byte changes it", () => {
  const root = Deno.makeTempDirSync({ prefix: "hyperdeno-check-cache-" });
  try {
    const [rtA, rtB] = [extractRuntime(`${root}/checkout-a`), extractRuntime(`${root}/checkout-b`)];
    const dep = `${root}/dep.ts`;
    Deno.writeTextFileSync(dep, "export type D = number;\n");
    const a = makePackage(`${root}/one/pkg-a`, rtA, dep);
    const b = makePackage(`${root}/two/pkg-b`, rtB, dep);
    const keyA = () => checkKey(`${root}/one/pkg-a`, [a.entry], a.map, rtA);
    const keyB = () => checkKey(`${root}/two/pkg-b`, [b.entry], b.map, rtB);
    const first = keyA();
    assert(first !== null && /^[0-9a-f]{64}$/.test(first), `a key: ${first}`);
    // The same template beside another copy of the same runtime: one key.
    assertEquals(keyB(), first);

    // A package's byte, a runtime's byte, a dependency's byte: each makes a key of its own.
    Deno.writeTextFileSync(`${root}/two/pkg-b/app/src/x.ts`, "export const x = 2;\n");
    const changedPackage = keyB();
    assert(changedPackage !== first, "a changed package file kept its key");
    Deno.writeTextFileSync(`${root}/two/pkg-b/app/src/x.ts`, "export const x = 1;\n");
    assertEquals(keyB(), first);

    const lib = `${rtB}/process_lib/mod.ts`;
    const libText = Deno.readTextFileSync(lib);
    Deno.writeTextFileSync(lib, `${libText}\nexport const added = 1;\n`);
    const changedRuntime = keyB();
    assert(changedRuntime !== first && changedRuntime !== changedPackage, "a changed runtime file kept its key");
    Deno.writeTextFileSync(lib, libText);
    assertEquals(keyB(), first);

    Deno.writeTextFileSync(dep, "export type D = string;\n");
    const changedDep = keyA();
    assert(changedDep !== first && changedDep !== changedRuntime, "a changed dependency kept its key");

    // A runtime that cannot be read (a compiled binary's sources) vouches for nothing.
    assertEquals(checkKey(`${root}/one/pkg-a`, [a.entry], a.map, `${root}/nowhere`), null);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
