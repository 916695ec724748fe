/** A package folder as the CLI's commands take it: its metadata, id and paths, with errors that say what to do. */
import { type PackageMetadata, parseMetadata } from "../runtime/packages/manifest.ts";
import { UsageError } from "./flags.ts";

export interface PackageDir {
  dir: string;
  meta: PackageMetadata;
  /** `package:publisher` */
  packageId: string;
  /** metadata.json's properties.dependencies: package ids whose APIs this package imports. */
  dependencies: string[];
}

export function readPackageDir(raw: string): PackageDir {
  const dir = raw.replace(/\/+$/, "") || "/";
  let text: string;
  try {
    text = Deno.readTextFileSync(`${dir}/metadata.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `${
          dir === "." ? "this folder" : dir
        } is not a package (no metadata.json): create one with \`hyperdeno new <NAME>\`, or name a package folder`,
      );
    }
    throw e;
  }
  let meta: PackageMetadata;
  let dependencies: string[] = [];
  try {
    meta = parseMetadata(text, `${dir}/metadata.json`);
    const deps = JSON.parse(text)?.properties?.dependencies ?? [];
    if (!Array.isArray(deps) || !deps.every((d) => typeof d === "string" && /^[a-z0-9-]+:[a-z0-9.-]+$/.test(d))) {
      throw new Error(
        `${dir}/metadata.json properties.dependencies must be a list of package ids like "chat:template.os"`,
      );
    }
    dependencies = deps;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return { dir, meta, packageId: `${meta.package_name}:${meta.publisher}`, dependencies };
}
