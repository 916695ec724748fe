/** alias:terminal:sys — `alias <NAME> [SCRIPT]`; `alias` alone lists aliases. */
import { Request, script, splitArgs } from "@hyperdeno/process_lib";

const USAGE =
  "Usage: alias <NAME> [SCRIPT]\n  alias my-script my-script:my-package:my-name.os   set\n  alias my-script                                   remove\n  alias                                             list";

export default script((our, line) => {
  const args = splitArgs(line);
  const terminal = `${our.node}@terminal:terminal:sys`;
  if (args.length === 0) {
    Request.to(terminal).json("ListAliases").send();
    return "";
  }
  if (args.length > 2 || args[0] === "-h" || args[0] === "--help") return USAGE;
  Request.to(terminal).json({ EditAlias: { alias: args[0], process: args[1] ?? null } }).send();
  return "";
});
