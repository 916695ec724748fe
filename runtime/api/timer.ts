/**
 * timer:distro:sys: the book's TimerAction. A popped timer answers with an
 * empty body; a refused SetTimer with `{"Err": TimerError}` (hyperdeno).
 */
export type TimerAction = "Debug" | { SetTimer: number };

export type TimerError = { TooManyTimers: { limit: number } };
