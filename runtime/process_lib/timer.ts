/** Helpers for timer:distro:sys (the book's TimerAction). */
import { TIMER } from "../api/processes.ts";
import { Request } from "./builders.ts";
import { ourModule } from "./modules.ts";

const timerAddress = () => ourModule(TIMER);

/** A SetTimer the timer module refused (e.g. `{"TooManyTimers": {"limit": 10000}}`). */
export class TimerError extends Error {
  override name = "TimerError";
  constructor(readonly error: unknown) {
    super(`timer: ${JSON.stringify(error)}`);
  }
}

/**
 * The error in a timer's Response, or null when the timer popped: a popped
 * timer's body is empty, a refused one's is `{"Err": ...}`.
 */
export function timerError(body: Uint8Array): TimerError | null {
  if (body.length === 0) return null;
  try {
    const v = JSON.parse(new TextDecoder().decode(body));
    return new TimerError(v && typeof v === "object" && "Err" in v ? v.Err : v);
  } catch {
    return new TimerError(new TextDecoder().decode(body));
  }
}

/** Sets a timer; its empty Response arrives through awaitMessage with `context` (see timerError). */
export function setTimer(ms: number, context: Uint8Array | string | null = null): void {
  const r = Request.to(timerAddress()).json({ SetTimer: ms }).expectsResponse(ms / 1000 + 5);
  if (context !== null) r.context(context);
  r.send();
}

/** Waits `ms` milliseconds by way of the timer module; throws TimerError if it refuses. */
export async function setAndAwaitTimer(ms: number): Promise<void> {
  const resp = await Request.to(timerAddress()).json({ SetTimer: ms }).sendAndAwaitResponse(ms / 1000 + 5);
  const err = timerError(resp.body());
  if (err) throw err;
}
