/**
 * A small kit-style flag parser: `-p 8080`, `--port 8080`, `--port=8080`,
 * boolean switches, positionals, and `--help`. Unknown flags and missing
 * values are errors that say which flag and show the usage.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface FlagSpec {
  long: string;
  short?: string;
  /** A flag that takes no value. */
  bool?: boolean;
  default?: string;
  help?: string;
  value?: string;
  /** May be given several times; the values collect in a list (flags[long] is a string[]). */
  multiple?: boolean;
  /** kit has this flag but it means nothing here: using it is an error that says why. */
  refused?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  positionals: { name: string; help: string; required?: boolean; default?: string }[];
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

export function parseFlags(spec: CommandSpec, argv: string[]): Parsed {
  const flags: Record<string, string | boolean | string[] | undefined> = {};
  for (const f of spec.flags) flags[f.long] = f.bool ? false : f.multiple ? [] : f.default;
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") {
      help = true;
      continue;
    }
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      const [key, inline] = a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
      const f = spec.flags.find((f) => key === `--${f.long}` || (f.short && key === `-${f.short}`));
      if (!f) throw new UsageError(`unknown flag ${key} for ${spec.name}`);
      if (f.refused) throw new UsageError(`${key} is not supported by hyperdeno: ${f.refused}`);
      if (f.bool) {
        flags[f.long] = inline === undefined ? true : inline !== "false";
        continue;
      }
      const v = inline ?? argv[++i];
      if (v === undefined) {
        throw new UsageError(`${key} needs a value (${f.value ?? "VALUE"}${f.default ? `, e.g. ${f.default}` : ""})`);
      }
      if (f.multiple) (flags[f.long] as string[]).push(...v.split(",").map((x) => x.trim()).filter(Boolean));
      else flags[f.long] = v;
      continue;
    }
    positionals.push(a);
  }
  if (!help) {
    spec.positionals.forEach((p, i) => {
      if (positionals[i] === undefined && p.default !== undefined) positionals[i] = p.default;
      if (p.required && positionals[i] === undefined) throw new UsageError(`missing ${p.name}`);
    });
  }
  return { flags, positionals, help };
}

export function helpText(spec: CommandSpec): string {
  const lines = [spec.summary, "", `Usage: ${spec.usage}`];
  if (spec.positionals.length) {
    lines.push("", "Arguments:");
    for (const p of spec.positionals) {
      lines.push(`  ${p.name.padEnd(28)}${p.help}${p.default !== undefined ? ` [default: ${p.default}]` : ""}`);
    }
  }
  lines.push("", "Options:");
  const shown = spec.flags.filter((f) => !f.refused).map((f) => ({
    f,
    name: `${f.short ? `-${f.short}, ` : "    "}--${f.long}${f.bool ? "" : ` <${f.value ?? "VALUE"}>`}`,
  }));
  const w = Math.max(28, ...shown.map((s) => s.name.length + 2));
  for (const { f, name } of shown) {
    lines.push(`  ${name.padEnd(w)}${f.help ?? ""}${f.default !== undefined ? ` [default: ${f.default}]` : ""}`);
  }
  lines.push(`  ${"-h, --help".padEnd(w)}Print help`);
  const refused = spec.flags.filter((f) => f.refused);
  if (refused.length) {
    lines.push(
      "",
      `kit flags without a meaning here: ${refused.map((f) => `--${f.long}`).join(", ")}`,
    );
  }
  return lines.join("\n");
}

/** `--hosts`: how many process hosts packages share (1-64), or `package` for a host each (0 to the node). */
export function hostsFlag(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (v === "package") return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new UsageError(`--hosts must be a number of process hosts 1-64, or package (a host each), got "${v}"`);
  }
  return n;
}

/** A port number from a flag, or a UsageError naming the flag. */
export function portFlag(v: unknown, flag = "--port"): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`${flag} must be a port number 0-65535, got "${v}"`);
  }
  return n;
}
