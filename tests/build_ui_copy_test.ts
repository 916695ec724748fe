/**
 * `pkg/ui/`, as a build copies it there while others read `pkg/` (a node installing the package, another test file's
 * build of it): a UI that did not change is left alone, a changed one replaced whole, nothing left behind.
 */
import { assert, assertEquals } from "./assert.ts";
import { copyUi } from "../runtime/packages/build.ts";
import { readPkgDir } from "../runtime/packages/install.ts";

const FILES = 60;

async function uiPackage(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "hyperdeno-uicopy-" });
  await Deno.mkdir(`${dir}/ui/assets`, { recursive: true });
  await Deno.mkdir(`${dir}/pkg`, { recursive: true });
  await Deno.writeTextFile(`${dir}/pkg/manifest.json`, "[]");
  for (let i = 0; i < FILES; i++) await Deno.writeFile(`${dir}/ui/assets/f${i}.js`, new Uint8Array(4096).fill(i));
  await Deno.writeTextFile(`${dir}/ui/index.html`, "<!doctype html><p>one</p>");
  return dir;
}

const uiOf = (files: Record<string, Uint8Array>) => Object.keys(files).filter((p) => p.startsWith("ui/")).sort();

Deno.test("ui copy: an unchanged UI is left as it was; a changed one replaces it whole; no temp is left", async () => {
  const dir = await uiPackage();
  try {
    copyUi(dir);
    const first = Deno.statSync(`${dir}/pkg/ui/index.html`);
    copyUi(dir);
    assertEquals(Deno.statSync(`${dir}/pkg/ui/index.html`).ino, first.ino, "an unchanged UI was copied again");

    await Deno.writeTextFile(`${dir}/ui/index.html`, "<!doctype html><p>two</p>");
    await Deno.remove(`${dir}/ui/assets/f0.js`);
    await Deno.writeTextFile(`${dir}/ui/new.css`, "p{}");
    copyUi(dir);
    const files = readPkgDir(`${dir}/pkg`);
    assertEquals(new TextDecoder().decode(files["ui/index.html"]), "<!doctype html><p>two</p>");
    assert(!("ui/assets/f0.js" in files), "a file gone from ui/ stayed in pkg/ui");
    assertEquals(uiOf(files).length, FILES + 1);
    assertEquals([...Deno.readDirSync(`${dir}/target`)].map((e) => e.name), [], "a temporary copy was left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ui copy: a build of an unchanged UI beside a reader of pkg/ never shows it half there", async () => {
  const dir = await uiPackage();
  copyUi(dir);
  const expected = uiOf(readPkgDir(`${dir}/pkg`));
  // Another thread builds again and again (as another test file's install does) while this one reads.
  const src = `
    import { copyUi } from ${JSON.stringify(new URL("../runtime/packages/build.ts", import.meta.url).href)};
    self.onmessage = () => { for (let i = 0; i < 150; i++) copyUi(${JSON.stringify(dir)}); self.postMessage("done"); };
  `;
  const worker = new Worker(`data:application/typescript,${encodeURIComponent(src)}`, { type: "module" });
  try {
    const done = new Promise<void>((resolve, reject) => {
      worker.onmessage = () => resolve();
      worker.onerror = (e) => reject(new Error(e.message));
    });
    let building = true;
    done.finally(() => building = false);
    worker.postMessage("go");
    let reads = 0;
    while (building) {
      let files: Record<string, Uint8Array>;
      try {
        files = readPkgDir(`${dir}/pkg`);
      } catch (e) {
        throw new Error(`read ${reads + 1} of pkg/ failed while the UI was copied again: ${(e as Error).message}`);
      }
      assertEquals(uiOf(files), expected, `read ${reads + 1} saw the UI half there`);
      reads++;
      await new Promise((r) => setTimeout(r, 0));
    }
    await done;
    assert(reads > 0);
  } finally {
    worker.terminate();
    await Deno.remove(dir, { recursive: true });
  }
});
