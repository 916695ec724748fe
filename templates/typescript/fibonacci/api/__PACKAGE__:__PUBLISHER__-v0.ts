/**
 * The API of __PACKAGE__:__PUBLISHER__: the n-th Fibonacci number, once or
 * timed over several runs. Import it as `@api/__PACKAGE__:__PUBLISHER__`.
 */

/** The fibonacci process's id: message it at `<node>@${FIBONACCI_PROCESS}`. */
export const FIBONACCI_PROCESS = "__PACKAGE__:__PACKAGE__:__PUBLISHER__";

/** The largest n whose Fibonacci number is exact in a JSON number. */
export const MAX_N = 78;

/** `{"Number": 10}`, or `{"Numbers": [10, 1000]}` for n computed 1000 times. */
export type FibonacciRequest = { Number: number } | { Numbers: [number, number] };

/** `{"Number": 55}`, `{"Numbers": [55, <average microseconds>]}`, or `{"Err": "why"}` for an n out of range. */
export type FibonacciResponse = { Number: number } | { Numbers: [number, number] } | { Err: string };

export function fibonacci(n: number): number {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}
