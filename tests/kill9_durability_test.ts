/**
 * Durability under kill -9, from outside (issue 18): nodes in OS processes of
 * their own, their whole process group SIGKILLed at seeded random moments
 * during writes, installs and a download, then booted again on the same
 * home. KILL9_ROUNDS=20 and KILL9_MIB=300 run the count of each and
 * its download's size (the everyday suite runs 2 rounds and 128 MiB);
 * KILL9_SEED replays a failure; KILL9_ONLY=storage|interrupted-write|install|ft-ack|download runs one.
 */
import { startChain } from "../runtime/testing.ts";
import { roundsWanted } from "./kill9_helpers.ts";
import { interruptedWriteRound, storageRounds } from "./kill9_storage.ts";
import { installRounds } from "./kill9_install.ts";
import { downloadRounds } from "./kill9_download.ts";
import { acknowledgedRounds } from "./kill9_ft_ack.ts";

const only = Deno.env.get("KILL9_ONLY");

function summary(what: string, times: number[]) {
  const total = times.reduce((a, b) => a + b, 0);
  console.log(
    `${what}: ${times.length} rounds in ${(total / 1000).toFixed(1)} s, ${
      (total / times.length / 1000).toFixed(2)
    } s per round (slowest ${(Math.max(...times) / 1000).toFixed(2)} s)`,
  );
}

Deno.test("kill -9 of a node's whole process group loses no acknowledged write and leaves nothing half done", async (t) => {
  const chain = await startChain();
  try {
    if (!only || only === "storage") {
      await t.step("VFS, KV and SQLite writes: every acknowledged record is back, none torn", async () => {
        summary("storage", await storageRounds(chain, roundsWanted(2)));
      });
    }
    if (!only || only === "interrupted-write") {
      await t.step("a whole-file Write killed half way leaves nothing the app cannot see or remove", async () => {
        await interruptedWriteRound(chain);
      });
    }
    if (!only || only === "install") {
      await t.step("an install: the package is wholly there or wholly absent, and installs again", async () => {
        summary("install", await installRounds(chain, roundsWanted(2)));
      });
    }
    if (!only || only === "ft-ack") {
      await t.step("Kino Files: a download, an allow or a cancel it answered survives a kill right after", async () => {
        summary("acknowledgements", await acknowledgedRounds(chain, roundsWanted(2)));
      });
    }
    if (!only || only === "download") {
      await t.step(
        "a download (128 MiB unless KILL9_MIB): it resumes to the right SHA-256, no partial file under a final name",
        async () => {
          summary("download", await downloadRounds(chain, roundsWanted(2)));
        },
      );
    }
  } finally {
    await chain.stop();
  }
});
