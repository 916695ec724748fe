/**
 * chat-files:template.os, the second package built on file-transfer's exported
 * worker API (the exporting-workers recipe): a file sent in a chat arrives
 * verified in the peer's drive, through file-transfer's worker bundled into
 * chat-files.
 */
import { assert, assertEquals } from "./assert.ts";
import { bootNet, inject, injectJson, waitFor } from "../runtime/testing.ts";
import { PACKAGES } from "./helpers.ts";
import { filePath, putFile, randomBytes } from "./ft_helpers.ts";

const CHAT = "chat-files:chat-files:template.os";
const PKG = "chat-files:template.os";

interface ChatMessage {
  author: string;
  content: string;
  file?: { name: string; size: number; status: string; error?: string };
}

Deno.test("chat-files sends a chat message with a file; the peer receives the file through the exported worker", async () => {
  const net = await bootNet({ "fake.dev": {}, "fake2.dev": {} }, { install: [`${PACKAGES}chat-files`] });
  try {
    const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
    assertEquals(await injectJson(a, CHAT, { Send: { target: "fake2.dev", message: "hello" } }), "Send");
    const photo = randomBytes(2 * 1024 * 1024 + 3);
    await putFile(a, "photo.jpg", photo, PKG);
    assertEquals(
      await injectJson(a, CHAT, { SendFile: { target: "fake2.dev", name: "photo.jpg", message: "look" } }),
      "Send",
    );
    await waitFor(
      "the file to arrive",
      () => b.lines.some((l) => l.includes("photo.jpg: received, SHA-256 verified")),
      20_000,
    );
    assertEquals(await Deno.readFile(filePath(b, "photo.jpg", PKG)), photo);
    const history = (await injectJson<{ History: ChatMessage[] }>(b, CHAT, { History: "fake.dev" })).History;
    assertEquals(history.map((m) => m.content), ["hello", "look"]);
    assertEquals(history[1].file?.status, "received");
    // Only what was offered can be fetched: a peer asking fake.dev's chat for anything else is refused.
    await putFile(a, "secret.txt", new TextEncoder().encode("no"), PKG);
    const r = await inject(b, CHAT, { Download: { name: "secret.txt", target: "x", is_requestor: false } }, {
      nodeName: "fake.dev",
    });
    assert(r.body?.includes("secret.txt was not offered to fake2.dev"), JSON.stringify(r));
  } finally {
    await net.close();
  }
});
