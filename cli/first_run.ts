/**
 * What a fake node says when it is ready, for someone who has read nothing:
 * its name, its home page, how to log in, and what to type next. And kit's
 * naming rule: a fake node's name without a dot gets ".dev".
 */
import type { Node } from "../runtime/boot.ts";
import { COMPILED } from "./run_args.ts";

export const FAKE_SUFFIX = ".dev";

/** `fake2` → `fake2.dev`, as kit names fake nodes; a name with a dot is kept. */
export function fakeNodeName(name: string): string {
  return name.includes(".") ? name : `${name}${FAKE_SUFFIX}`;
}

export function readyText(node: Node, opts: { home: string; persist: boolean; password: string }): string {
  const net = node.net
    ? node.net.indirect
      ? `indirect via ${node.net.opts.routers.join(", ")}`
      : `tcp ${node.net.tcpPort}, ws ${node.net.wsPort}`
    : "no networking";
  const p = node.port === 8080 ? "" : ` -p ${node.port}`;
  const cli = hyperdenoCommandName();
  return [
    `${node.name}: node ready in ${Math.round(node.bootMs)} ms (${net}); home ${opts.home}${
      opts.persist ? "" : " (removed on exit; --persist keeps it)"
    }`,
    `  home page  http://localhost:${node.port}/   log in with the password "${opts.password}"`,
    `  next       ${cli} new my-app && ${cli} build my-app && ${cli} start-package my-app${p}`,
    ...(cli === TASK ? ["             (in this checkout; `deno task install` puts `hyperdeno` on PATH)"] : []),
    `  here       type hi, m, top, peers, alias, cat, echo, help (Ctrl-C stops the node)`,
  ].join("\n");
}

const TASK = "deno task hyperdeno";

/**
 * How the user can run hyperdeno's commands: `hyperdeno` once it is on PATH, this very executable when it is a
 * compiled hyperdeno, otherwise the checkout's task (advice to type `hyperdeno` before it is installed fails).
 */
function hyperdenoCommandName(): string {
  if (onPath("hyperdeno")) return "hyperdeno";
  return COMPILED ? Deno.execPath() : TASK;
}

function onPath(command: string): boolean {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    return false; // no env permission: say what works without it
  }
  return path.split(":").filter(Boolean).some((dir) => {
    try {
      const st = Deno.statSync(`${dir}/${command}`);
      return st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}
