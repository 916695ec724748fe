/** The module-worker plumbing's time limit: a call that never returns is stopped, and what comes next. */
import { assert, assertEquals } from "./assert.ts";
import { ModuleWorker, STUCK_ERROR, TIME_LIMIT_ERROR } from "../runtime/kernel/module_worker.ts";

const ENTRY = new URL("./fixtures/modules_worker/spin_worker.ts", import.meta.url);
const dir = new URL("./fixtures/modules_worker", import.meta.url).pathname;

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    return (e as Error).message;
  }
}

Deno.test("module worker in a process: a call past the time limit fails, and the next runs in a fresh process", async () => {
  let stops = 0;
  const w = new ModuleWorker(ENTRY, { read: [dir], write: [] }, {
    process: true,
    timeLimitMs: 1000,
    init: ["init"],
    onTimeLimit: () => stops++,
  });
  try {
    const first = await w.call<{ started: number }>("echo", 1);
    const t = Date.now();
    assertEquals(await rejection(w.call("spin")), TIME_LIMIT_ERROR);
    // Not before its 1 s limit; the upper bound catches a limit never enforced, not a busy machine's late timer.
    assert(Date.now() - t >= 900 && Date.now() - t < 10_000, `stopped after ${Date.now() - t} ms`);
    assertEquals(stops, 1);
    const second = await w.call<{ x: number; started: number }>("echo", 2);
    assertEquals(second.x, 2);
    assert(second.started > first.started, "a fresh process ran init again");
  } finally {
    await w.close();
  }
});

Deno.test("module worker on a thread: after the time limit the engine is refused, not restarted beside a stuck thread", async () => {
  const w = new ModuleWorker(ENTRY, { read: [dir], write: [] }, { timeLimitMs: 500, init: ["init"] });
  try {
    assertEquals((await w.call<{ x: number }>("echo", 1)).x, 1);
    assertEquals(await rejection(w.call("spin")), TIME_LIMIT_ERROR);
    assertEquals(await rejection(w.call("echo", 2)), STUCK_ERROR);
  } finally {
    await w.close();
  }
});
