import { assertEquals } from "./assert.ts";
import { decodeFromProcess, decodeToProcess, encodeFromProcess, encodeToProcess } from "../runtime/host/wire.ts";
import type { FromProcess, ToProcess } from "../runtime/host/protocol.ts";

const bytes = (n: number, v = 1) => new Uint8Array(n).fill(v);

Deno.test("wire: kernel → process batches round-trip every byte field size", () => {
  const msgs: ToProcess[] = [0, 1, 5, 2048, 2049, 100_000].map((n, i) => ({
    t: "msg",
    km: {
      id: BigInt(i + 1),
      source: "a.os@x:y:z.os",
      target: "a.os@p:q:r.os",
      rsvp: i % 2 ? "a.os@x:y:z.os" : null,
      message: i % 2
        ? { Request: { inherit: true, expects_response: i, body: bytes(n, i), metadata: "m", capabilities: [] } }
        : {
          Response: [{
            inherit: false,
            body: bytes(n, i),
            metadata: null,
            capabilities: [{ issuer: "a.os@x:y:z.os", params: "1" }],
          }, bytes(3)],
        },
      lazy_load_blob: i > 2 ? { mime: i === 3 ? null : "text/plain", bytes: bytes(n, 9) } : null,
    },
    context: i === 4 ? bytes(0) : i === 5 ? bytes(7) : null,
    withheld: null,
  }));
  msgs.push({ t: "reply", call: 3, ok: true, value: { any: "thing" } });
  const batch = structuredClone(encodeToProcess(msgs));
  assertEquals(decodeToProcess(batch), msgs);
});

Deno.test("wire: process → kernel batches round-trip, and forged offsets decode to nothing", () => {
  const msgs: FromProcess[] = [
    {
      t: "send",
      id: 9n,
      target: "our@p:q:r.os",
      message: {
        Request: { inherit: false, expects_response: null, body: bytes(4), metadata: null, capabilities: [] },
      },
      blob: { mime: null, bytes: bytes(3000) },
      prompt: null,
      blobFrom: 4n,
      context: bytes(2),
      keepBlob: false,
      withheld: false,
    },
    { t: "print", verbosity: 0, text: "hi" },
  ];
  assertEquals(decodeFromProcess(structuredClone(encodeFromProcess(msgs))), msgs);
  const forged = decodeFromProcess({ rows: [[1, "t", -1, false, 99999 * 4096 + 10]], bytes: bytes(4) });
  assertEquals(forged[0].t === "send" && "Request" in forged[0].message && forged[0].message.Request.body.length, 0);
  assertEquals(decodeFromProcess({ rows: "nope" } as never), []);
});
