/** Publishing in tests: a package folder whose metadata holds its zip's hash, and a server for the metadata. */
import { freePort } from "./cli_helpers.ts";
import { zipPkg } from "../cli/pkg_zip.ts";

/** A static file server for the metadata, counting fetches per path; any page may read it, as GitHub's raw files. */
export function metadataServer() {
  const files = new Map<string, Uint8Array>();
  const hits = new Map<string, number>();
  const port = freePort();
  const server = Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = files.get(path);
    const headers = { "access-control-allow-origin": "*" };
    return body
      ? new Response(body as Uint8Array<ArrayBuffer>, { headers })
      : new Response("no such file", { status: 404, headers });
  });
  return { files, hits, url: (path: string) => `http://127.0.0.1:${port}${path}`, close: () => server.shutdown() };
}

/** A package folder with a built-looking pkg/ and metadata whose code hash is its zip's, served at `path`. */
export async function makePackage(
  root: string,
  name: string,
  publisher: string,
  version = "0.1.0",
): Promise<{ dir: string; metadata: Uint8Array }> {
  const dir = `${root}/${name}-${version}`;
  await Deno.mkdir(`${dir}/pkg`, { recursive: true });
  await Deno.writeTextFile(`${dir}/pkg/manifest.json`, "[]\n");
  await Deno.writeTextFile(`${dir}/pkg/${name}.js`, `// ${name} ${version}\n`);
  const write = (hashes: Record<string, string>) =>
    Deno.writeTextFile(
      `${dir}/metadata.json`,
      JSON.stringify(
        {
          name: `The ${name} app`,
          description: "for the App Store test",
          image: "",
          properties: {
            package_name: name,
            current_version: version,
            publisher,
            mirrors: [publisher],
            code_hashes: hashes,
            wit_version: 1,
            dependencies: [],
          },
          external_url: "",
          animation_url: "",
        },
        null,
        2,
      ) + "\n",
    );
  await write({});
  const { sha256 } = await zipPkg(dir, `${name}:${publisher}`);
  await write({ [version]: sha256 });
  return { dir, metadata: await Deno.readFile(`${dir}/metadata.json`) };
}
