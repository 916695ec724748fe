/**
 * Attacks on what an install granted, made the way an attacker would: a
 * hostile package installed like any other. (Attacks on names on the chain:
 * tests/chain_contract_test.ts and tests/chain_indexer_test.ts.)
 */
import { assert, assertEquals } from "./assert.ts";
import { injectJson, waitFor, withNode } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

const CLIMBER = `${FIXTURES}registry_climber`;

Deno.test("install: a package that rewrites its own pkg/scripts.json to root does not get root", () =>
  withNode([CLIMBER], async (n) => {
    const granted = n.lines.filter((l) => l.includes("install registry-climber:test.os: granted"));
    assert(granted.some((l) => l.includes("script peek:registry-climber:test.os: nothing")), granted.join("\n"));
    const r = await injectJson<{ own: { ok?: string }; record: { err?: unknown } }>(
      n,
      "climber:registry-climber:test.os",
      "Escalate",
      30,
    );
    assert(r.own.ok?.includes('"root":true'), `the package rewrote its own drive: ${JSON.stringify(r)}`);
    assert(r.record.err, `the runtime's record is not the package's to write: ${JSON.stringify(r)}`);
    n.terminal.command("peek:registry-climber:test.os");
    await waitFor("the script's answer", () => n.lines.some((l) => l.startsWith("peek: ")));
    assertEquals(n.lines.filter((l) => l.startsWith("peek: ROOT")), []);
    assert(n.lines.some((l) => l.startsWith("peek: refused")), n.lines.join("\n"));
  }));
