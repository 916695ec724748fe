/**
 * The last step of `build`, as kit's: pkg/ zipped into target/<package-id>.zip,
 * and its SHA-256. Entries are sorted and dated 1980-01-01, so the same pkg/
 * gives the same bytes and hash on any machine.
 */
import { type Zippable, zipSync } from "fflate";
import { readPkgDir } from "../runtime/packages/install.ts";
import { toHex } from "../runtime/bytes.ts";

const EPOCH = new Date(1980, 0, 1, 0, 0, 0);

export async function zipPkg(dir: string, packageId: string): Promise<{ path: string; sha256: string; bytes: number }> {
  const files = readPkgDir(`${dir}/pkg`);
  const entries: Zippable = {};
  for (const name of Object.keys(files).sort()) entries[name] = [files[name], { mtime: EPOCH }];
  const zip = zipSync(entries, { level: 6 });
  Deno.mkdirSync(`${dir}/target`, { recursive: true });
  const path = `${dir}/target/${packageId}.zip`;
  Deno.writeFileSync(path, zip);
  const sha256 = toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(zip))));
  return { path, sha256, bytes: zip.length };
}
