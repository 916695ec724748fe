/**
 * Writes packages/app-store/ui/vendor/viem.js: the few viem functions the App Store's Publish view needs in the
 * browser (ABI encoding and decoding, keccak256, namehash), bundled and minified from the checkout's viem, so the
 * page encodes the same calls as chain/app_publish.ts without a build step for ui/. Run it after a viem upgrade:
 * `deno run -A scripts/app_store_vendor.ts`.
 */
import repoConfig from "../deno.json" with { type: "json" };

const ENTRY = `export {
  decodeFunctionResult,
  encodeFunctionData,
  hexToString,
  keccak256,
  namehash,
  parseAbi,
  stringToHex,
  toHex,
} from "viem";
`;

const root = new URL("../", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "hyperdeno-vendor-" });
try {
  await Deno.writeTextFile(`${dir}/entry.ts`, ENTRY);
  await Deno.copyFile(`${root}deno.json`, `${dir}/deno.json`);
  await Deno.copyFile(`${root}deno.lock`, `${dir}/deno.lock`);
  const out = `${root}packages/app-store/ui/vendor/viem.js`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--minify", "--platform", "browser", "-o", `${dir}/out.js`, `${dir}/entry.ts`],
    cwd: dir,
  }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  const version = repoConfig.imports.viem.replace("npm:", "");
  const body = await Deno.readTextFile(`${dir}/out.js`);
  await Deno.writeTextFile(out, `// ${version}, bundled by scripts/app_store_vendor.ts (MIT, wevm/viem)\n${body}`);
  console.log(`wrote ${out} (${body.length} bytes)`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
