/**
 * The login throttle on its own clock: one key's attempts judged in turn, the back-off each leaves, and the overall
 * budget spent as attempts begin. (Through HTTP, origins_attack_test sends guesses side by side at a running node.)
 */
import { assertEquals, assertRejects } from "./assert.ts";
import { LoginThrottle } from "../modules/http_server/auth.ts";

/** A check whose answer the test gives when it likes. */
function pending<T>() {
  let answer!: (v: T | null) => void;
  const promise = new Promise<T | null>((r) => answer = r);
  return { check: () => promise, answer };
}

Deno.test("login throttle: a key's second attempt waits for its first to be judged, then sees its back-off", async () => {
  let now = 1_000_000;
  const t = new LoginThrottle(() => now);
  const first = pending<string>();
  const a = t.judge("form", false, first.check);
  const b = t.judge("form", false, () => Promise.resolve("right"));
  // Another key waits for no one.
  assertEquals(await t.judge("other form", false, () => Promise.resolve("right")), { right: "right" });
  first.answer(null);
  assertEquals(await a, { wrong: 500 });
  assertEquals(await b, { refused: 500 });
  now += 499;
  assertEquals(await t.judge("form", false, () => Promise.resolve("x")), { refused: 1 });
  now += 1;
  assertEquals(await t.judge("form", false, () => Promise.resolve(null)), { wrong: 1000 });
  now += 1000;
  assertEquals(await t.judge("form", false, () => Promise.resolve("right")), { right: "right" });
  assertEquals(await t.judge("form", false, () => Promise.resolve(null)), { wrong: 500 }, "a right password resets");
});

Deno.test("login throttle: the overall budget is spent as attempts begin and given back by right or unjudged ones", async () => {
  let now = 1_000_000;
  const t = new LoginThrottle(() => now);
  const checks = Array.from({ length: 10 }, () => pending<string>());
  const judged = checks.map((c, i) => t.judge(`form ${i}`, false, c.check));
  // Ten begun, none judged yet: the eleventh waits for the budget to refill (one per 6 s).
  assertEquals(await t.judge("form 10", false, () => Promise.resolve("x")), { refused: 6000 });
  // A known device neither spends nor waits on it.
  assertEquals(await t.judge("device d", true, () => Promise.resolve("x")), { right: "x" });
  checks[0].answer("right");
  checks[1].answer(null);
  assertEquals(await judged[0], { right: "right" });
  assertEquals(await judged[1], { wrong: 500 });
  // One share came back (the right one); a check that throws gives its share back too.
  await assertRejects(() => t.judge("form 11", false, () => Promise.reject(new Error("disk"))), Error, "disk");
  assertEquals(await t.judge("form 12", false, () => Promise.resolve(null)), { wrong: 500 });
  assertEquals(await t.judge("form 13", false, () => Promise.resolve("x")), { refused: 6000 });
  now += 3000;
  assertEquals(await t.judge("form 13", false, () => Promise.resolve("x")), { refused: 3000 });
  now += 3000;
  assertEquals(await t.judge("form 13", false, () => Promise.resolve("x")), { right: "x" });
  for (const c of checks.slice(2)) c.answer(null);
  await Promise.all(judged);
});

Deno.test("login throttle: more than 16 attempts of one key waiting at once are refused at once", async () => {
  const t = new LoginThrottle(() => 1_000_000);
  const first = pending<string>();
  const waiting = [t.judge("scripts", false, first.check)];
  for (let i = 1; i < 16; i++) waiting.push(t.judge<string>("scripts", false, () => Promise.resolve(null)));
  assertEquals(await t.judge("scripts", false, () => Promise.resolve("x")), { refused: 500 });
  first.answer(null);
  const answers = await Promise.all(waiting);
  assertEquals(answers[0], { wrong: 500 });
  assertEquals(answers.slice(1).every((a) => "refused" in a), true);
});
