/** The few assertions the tests use (jsr:@std/assert is not reachable from our machines). */
export class AssertionError extends Error {
  override name = "AssertionError";
}

function show(v: unknown): string {
  return Deno.inspect(v, { depth: 6, colors: false });
}

function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

export function assertEquals(actual: unknown, expected: unknown, msg?: string) {
  if (!equal(actual, expected)) {
    throw new AssertionError(`${msg ? msg + ": " : ""}expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

export function assertMatch(s: string, re: RegExp, msg?: string) {
  if (!re.test(s)) throw new AssertionError(`${msg ? msg + ": " : ""}${show(s)} does not match ${re}`);
}

export function assertThrows(
  f: () => unknown,
  // deno-lint-ignore no-explicit-any
  cls?: new (...args: any[]) => Error,
  includes?: string,
) {
  try {
    f();
  } catch (e) {
    if (cls && !(e instanceof cls)) throw new AssertionError(`expected ${cls.name}, got ${show(e)}`);
    if (includes && !(e as Error).message.includes(includes)) {
      throw new AssertionError(`error ${show((e as Error).message)} does not include ${show(includes)}`);
    }
    return e as Error;
  }
  throw new AssertionError("expected a throw");
}

export async function assertRejects(
  f: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  cls?: new (...args: any[]) => Error,
  includes?: string,
) {
  try {
    await f();
  } catch (e) {
    if (cls && !(e instanceof cls)) throw new AssertionError(`expected ${cls.name}, got ${show(e)}`);
    if (includes && !(e as Error).message.includes(includes)) {
      throw new AssertionError(`error ${show((e as Error).message)} does not include ${show(includes)}`);
    }
    return e as Error;
  }
  throw new AssertionError("expected a rejection");
}
