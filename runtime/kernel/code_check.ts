/**
 * Process code is refused before it runs if it could load code the node did
 * not install: `import()` (an `npm:` specifier makes the node fetch from the
 * registry; `node:process` hands back the host APIs the sandbox removed) and
 * `import.meta`. A parse, not a text search, so a string that mentions
 * import() is fine. It is sound because nothing in a process can make code
 * from strings at run time (runtime/host/lockdown.ts closes eval and every
 * function constructor before the process's code runs).
 */
import { parse } from "acorn";
import { simple } from "acorn-walk";

/** Process code that the sandbox will not run. */
export class CodeRefused extends Error {
  override name = "CodeRefused";
}

/** Code already found clean: a spawn re-reads its child's bundle, and parsing it again costs milliseconds. */
const clean = new Set<string>();
const CLEAN_MAX = 256;

export function checkProcessCode(code: string, name: string) {
  if (clean.has(code)) return;
  refuseImports(code, name);
  if (clean.size >= CLEAN_MAX) clean.clear();
  clean.add(code);
}

function refuseImports(code: string, name: string) {
  let ast;
  try {
    ast = parse(code, {
      ecmaVersion: "latest",
      sourceType: "script",
      allowHashBang: true,
      allowReturnOutsideFunction: true,
    });
  } catch (e) {
    throw new CodeRefused(
      `${name} is not a process bundle the sandbox can check (${(e as Error).message}): build it with \`build\``,
    );
  }
  let at: number | null = null;
  simple(ast, {
    ImportExpression(n) {
      at ??= n.start;
    },
  });
  if (at !== null) {
    const line = code.slice(0, at).split("\n").length;
    throw new CodeRefused(
      `${name} calls import() (line ${line}): processes may not load code at run time; import it statically so the build bundles it`,
    );
  }
}
