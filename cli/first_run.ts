/**
 * What a fake node says when it is ready, for someone who has read nothing:
 * its name, its home page, how to log in, and what to type next. And kit's
 * naming rule: a fake node's name without a dot gets ".dev".
 */
import type { Node } from "../runtime/boot.ts";

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
  return [
    `${node.name}: node ready in ${Math.round(node.bootMs)} ms (${net}); home ${opts.home}${
      opts.persist ? "" : " (removed on exit; --persist keeps it)"
    }`,
    `  home page  http://localhost:${node.port}/   log in with the password "${opts.password}"`,
    `  next       hyperdeno new my-app && hyperdeno build my-app && hyperdeno start-package my-app${p}`,
    `  here       type hi, m, top, peers, alias, cat, echo, help (Ctrl-C stops the node)`,
  ].join("\n");
}
