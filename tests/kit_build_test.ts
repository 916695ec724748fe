/**
 * `build` and the commands around it, through the CLI: type errors fail the
 * build with the checker's message, kit's flags, a reproducible zip, a
 * package importing another's API (from a running node or a local folder),
 * view-api, remove-package and build-start-package.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { cli, freePort, NodeProcess } from "./cli_helpers.ts";
import { bootNode, injectJson, install, removeHome } from "../runtime/testing.ts";
import { exists } from "../runtime/fs.ts";

async function tmp(prefix: string) {
  return await Deno.makeTempDir({ prefix: `hyperdeno-kit-${prefix}-` });
}

Deno.test("build type-checks: a type error fails the build with the checker's message and writes no bundle", async () => {
  const dir = await tmp("typeerr");
  assertEquals((await cli("new", `${dir}/bad`, "-t", "echo")).code, 0);
  await Deno.writeTextFile(`${dir}/bad/bad/main.ts`, `\nconst x: number = "str";\nconsole.log(x);\n`, { append: true });
  const r = await cli("build", `${dir}/bad`);
  assertEquals(r.code, 1);
  assertMatch(r.err, /build: type check failed:\nTS2322 \[ERROR\]: Type 'string' is not assignable to type 'number'\./);
  assertMatch(r.err, /bad\/bad\/main\.ts:\d+:7/);
  assert(!exists(`${dir}/bad/pkg/bad.js`), "no bundle is written when the types are wrong");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("build's flags: include/exclude, features, ui-only, force, and a zip whose hash depends only on pkg/", async () => {
  const dir = await tmp("flags");
  const pkg = `${dir}/app`;
  // The plain UI: no npm install (the Vite UI's build is tests/kit_ui_template_test.ts's).
  assertEquals((await cli("new", pkg, "--plain-ui")).code, 0);
  // --ui-only copies the UI and bundles nothing.
  const ui = await cli("build", pkg, "--ui-only");
  assertEquals(ui.code, 0, ui.err);
  assertMatch(ui.out, /UI pkg\/ui\//);
  assert(!exists(`${pkg}/pkg/app.js`) && exists(`${pkg}/pkg/ui/index.html`), "--ui-only bundles nothing");

  const fib = `${dir}/fib`;
  assertEquals((await cli("new", fib, "-t", "fibonacci")).code, 0);
  const only = await cli("build", fib, "-i", "number");
  assertEquals(only.code, 0, only.err);
  assert(exists(`${fib}/pkg/number.js`) && !exists(`${fib}/pkg/fib.js`), "--include builds only that process");
  const excluded = await cli("build", fib, "-e", "number");
  assertMatch(excluded.out, /bundled pkg\/fib\.js;/);
  const unknown = await cli("build", fib, "-i", "nope");
  assertMatch(unknown.err, /has no process nope; its processes: fib, number/);
  // Up to date: nothing rebuilt unless forced; the zip is the same bytes either way.
  const again = await cli("build", fib);
  assertMatch(again.out, /up to date pkg\/fib\.js, pkg\/number\.js \(-f rebuilds\)/);
  const hash = (s: string) => s.match(/sha256 ([0-9a-f]{64})/)![1];
  const forced = await cli("build", fib, "-f");
  assertMatch(forced.out, /bundled pkg\/fib\.js, pkg\/number\.js/);
  assertEquals(hash(forced.out), hash(again.out));

  // --features reaches the code as FEATURES.
  await Deno.writeTextFile(
    `${fib}/fib/main.ts`,
    `import { FEATURES } from "@hyperdeno/features";\nexport const features: readonly string[] = FEATURES;\n` +
      await Deno.readTextFile(`${fib}/fib/main.ts`),
  );
  const withFeatures = await cli("build", fib, "--features", "test,simulation-mode", "-i", "fib");
  assertEquals(withFeatures.code, 0, withFeatures.err);
  assertMatch(await Deno.readTextFile(`${fib}/pkg/fib.js`), /var FEATURES = \[\s*"test",\s*"simulation-mode"\s*\]/);
  for (const flag of [["--reproducible"], ["-v"]]) assertEquals((await cli("build", fib, ...flag)).code, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("APIs: a package imports another's API from a running node or a local folder; view-api, remove-package, bs", async () => {
  const dir = await tmp("api");
  const port = freePort();
  const node = new NodeProcess(["-p", String(port), "-o", `${dir}/home`, "-c", String(freePort())]);
  try {
    assertEquals((await cli("new", `${dir}/my-chat`)).code, 0);
    // The consumer: an echo package whose process answers with the chat's process id, taken from the chat's API.
    assertEquals((await cli("new", `${dir}/consumer`, "-t", "echo")).code, 0);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/consumer/metadata.json`));
    meta.properties.dependencies = ["my-chat:template.os"];
    await Deno.writeTextFile(`${dir}/consumer/metadata.json`, JSON.stringify(meta));
    await Deno.writeTextFile(
      `${dir}/consumer/consumer/main.ts`,
      `import { requests, Response } from "@hyperdeno/process_lib";
import { CHAT_PROCESS, type ChatRequest } from "@api/my-chat:template.os";
export default async function init(_our: string) {
  for await (const msg of requests()) {
    const example: ChatRequest = { History: msg.json<string>() };
    Response.to(msg).json({ chat: CHAT_PROCESS, example }).send();
  }
}
`,
    );
    await node.waitFor(/node ready/);
    const missing = await cli("build", `${dir}/consumer`, "-p", String(port));
    assertEquals(missing.code, 2);
    assertMatch(missing.err, /dependency my-chat:template\.os is not on the node at port \d+: start it there/);

    const bs = await cli("build-start-package", `${dir}/my-chat`, "-p", String(port));
    assertEquals(bs.code, 0, bs.err);
    assertMatch(bs.out, /started my-chat:template\.os on port \d+/);
    const list = await cli("view-api", "-p", String(port));
    assertMatch(list.out, /my-chat:template\.os: my-chat:template\.os-v0\.ts/);
    const api = await cli("view-api", "my-chat:template.os", "-p", String(port));
    assertMatch(api.out, /export type ChatRequest = \{ Send: SendRequest \} \| \{ History: string \};/);

    // From the node.
    const fromNode = await cli("bs", `${dir}/consumer`, "-p", String(port));
    assertEquals(fromNode.code, 0, fromNode.err);
    const answer = await cli("inject-message", "consumer:consumer:template.os", '"fake.dev"', "-p", String(port));
    assertEquals(JSON.parse(answer.out), { chat: "my-chat:my-chat:template.os", example: { History: "fake.dev" } });
    // From a local folder (no node needed for it).
    await Deno.remove(`${dir}/consumer/target`, { recursive: true });
    const local = await cli("build", `${dir}/consumer`, "-f", "-l", `${dir}/my-chat`, "-p", String(freePort()));
    assertEquals(local.code, 0, local.err);
    // A type error against the imported API fails the build.
    await Deno.writeTextFile(
      `${dir}/consumer/consumer/main.ts`,
      `import type { ChatRequest } from "@api/my-chat:template.os";\nexport const r: ChatRequest = { Sned: 1 };\nexport default function init() {}\n`,
    );
    const wrong = await cli("build", `${dir}/consumer`, "-l", `${dir}/my-chat`);
    assertEquals(wrong.code, 1, wrong.out + wrong.err);
    assertMatch(wrong.err, /Sned/);

    const removed = await cli("remove-package", `${dir}/my-chat`, "-p", String(port));
    assertEquals(removed.code, 0, removed.err);
    assertMatch(removed.out, /removed my-chat:template\.os from port \d+: stopped my-chat:my-chat:template\.os/);
    const gone = await cli("inject-message", "my-chat:my-chat:template.os", '{"History": "x"}', "-p", String(port));
    assertMatch(gone.err, /is offline or not running/);
    assertEquals((await cli("view-api", "my-chat:template.os", "-p", String(port))).code, 1);
    const again = await cli("r", "-a", "my-chat", "-u", "template.os", "-p", String(port));
    assertMatch(again.err, /my-chat:template\.os is not installed on the node/);
  } finally {
    node.kill("SIGINT");
    await node.exited();
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("new --language javascript: the template with its types erased builds (its tests run in kit_run_tests_test)", async () => {
  const dir = await tmp("js");
  const r = await cli("new", `${dir}/js-fib`, "-t", "fibonacci", "-l", "javascript");
  assertEquals(r.code, 0, r.err);
  const main = await Deno.readTextFile(`${dir}/js-fib/js-fib/main.js`);
  assert(!/: FibonacciRequest|type /.test(main), `types erased:\n${main}`);
  assertMatch(main, /import \{ fibonacci, MAX_N \} from "@api\/js-fib:template\.os";/);
  assert(exists(`${dir}/js-fib/test/js-fib-test/js-fib-test/tester_lib.js`));
  const built = await cli("build", `${dir}/js-fib`);
  assertEquals(built.code, 0, built.err);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("new -t <example app of packages/>: ping becomes a package of its own that builds and answers", async () => {
  const dir = await tmp("example");
  const r = await cli("new", `${dir}/pong-app`, "-t", "ping", "-u", "me.os");
  assertEquals(r.code, 0, r.err);
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/pong-app/metadata.json`)).properties;
  assertEquals([meta.package_name, meta.publisher], ["pong-app", "me.os"]);
  assertMatch(await Deno.readTextFile(`${dir}/pong-app/ping/main.ts`), /ping:pong-app:me\.os/);
  const n = await bootNode();
  try {
    await install(n, `${dir}/pong-app`);
    assertEquals(await injectJson(n, "ping:pong-app:me.os", "ping"), "pong");
  } finally {
    await n.shutdown();
    await removeHome(n);
  }
  // The slot for kit's file-transfer template: it is the file-transfer app once packages/ holds it.
  const ft = await cli("new", `${dir}/ft`, "-t", "file-transfer");
  if (ft.code !== 0) assertMatch(ft.err, /the file-transfer template is not in this hyperdeno yet/);
  else assertMatch(await Deno.readTextFile(`${dir}/ft/metadata.json`), /"package_name": "ft"/);
  await Deno.remove(dir, { recursive: true });
});
