/** Helpers for timer:distro:sys (the book's TimerAction). */
import { nodeOf } from "../types.ts";
import { Request } from "./builders.ts";
import { connect } from "./port.ts";

const timerAddress = () => `${nodeOf(connect().init.our)}@timer:distro:sys`;

/** Sets a timer; its empty Response arrives through awaitMessage with `context`. */
export function setTimer(ms: number, context: Uint8Array | string | null = null): void {
  const r = Request.to(timerAddress()).json({ SetTimer: ms }).expectsResponse(ms / 1000 + 5);
  if (context !== null) r.context(context);
  r.send();
}

/** Waits `ms` milliseconds by way of the timer module. */
export async function setAndAwaitTimer(ms: number): Promise<void> {
  await Request.to(timerAddress()).json({ SetTimer: ms }).sendAndAwaitResponse(ms / 1000 + 5);
}
