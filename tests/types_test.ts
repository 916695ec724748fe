import { assertEquals, assertThrows } from "./assert.ts";
import {
  capKey,
  formatAddress,
  packageOf,
  parseAddress,
  ParseError,
  parseProcessId,
  validateMessage,
  validateOnExit,
} from "../runtime/types.ts";

Deno.test("parseAddress reads node@process:package:publisher", () => {
  assertEquals(parseAddress("fake.dev@ping:ping:template.os"), { node: "fake.dev", process: "ping:ping:template.os" });
});

Deno.test("parseAddress replaces our with the node's name", () => {
  assertEquals(parseAddress("our@ping:ping:template.os", "fake.dev").node, "fake.dev");
  assertThrows(() => parseAddress("our@ping:ping:template.os"), ParseError, '"our"');
});

Deno.test("parseAddress refuses what the book's character rules forbid", () => {
  for (
    const bad of [
      "",
      "fake.dev",
      "fake.dev@ping:ping",
      "Fake.dev@ping:ping:template.os",
      "fake.dev@ping:pi_ng:template.os",
      "fake.dev@ping:ping:template.os@x",
      "fake..dev@ping:ping:template.os",
      "fake.dev@:ping:template.os",
      "fake.dev@ping:ping:templ/ate.os",
      "fake.dev@ping:ping:template.os\u0000",
      `fake.dev@${"a".repeat(300)}:ping:template.os`,
    ]
  ) assertThrows(() => parseAddress(bad), ParseError);
});

Deno.test("process and package ids round-trip", () => {
  const p = parseProcessId("hub:semantics:test.os");
  assertEquals(p, { processName: "hub", packageName: "semantics", publisherNode: "test.os" });
  assertEquals(packageOf("hub:semantics:test.os"), "semantics:test.os");
  assertEquals(formatAddress("a.os", "hub:semantics:test.os"), "a.os@hub:semantics:test.os");
});

Deno.test("capabilities with the same params in another key order are the same token", () => {
  assertEquals(
    capKey({ issuer: "a.os@vfs:distro:sys", params: '{"kind":"read","drive":"/a:b/c"}' }),
    capKey({ issuer: "a.os@vfs:distro:sys", params: '{ "drive": "/a:b/c", "kind": "read" }' }),
  );
});

Deno.test("validateMessage refuses malformed shapes with a ParseError", () => {
  for (
    const bad of [
      null,
      42,
      {},
      { Request: null },
      { Request: { body: "not bytes" } },
      { Request: { body: [], expects_response: -1 } },
      { Response: [{}] },
      { Request: { body: [], capabilities: [{ issuer: "nope", params: "1" }] } },
    ]
  ) assertThrows(() => validateMessage(bad), ParseError);
  const ok = validateMessage({ Request: { body: [104, 105], expects_response: 5 } });
  assertEquals("Request" in ok && ok.Request.body, Uint8Array.of(104, 105));
});

Deno.test("validateOnExit accepts the book's three behaviours", () => {
  assertEquals(validateOnExit("None"), "None");
  assertEquals(validateOnExit("Restart"), "Restart");
  assertEquals(validateOnExit({ Requests: [] }), { Requests: [] });
  assertThrows(() => validateOnExit("Sometimes"), ParseError);
});
