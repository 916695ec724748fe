/**
 * The VFS actions, one handler each, found by the action's name. Each runs
 * after the module has parsed and authorized the request; a handler answers
 * with the VfsResponse (and a blob) or throws a VfsFailure.
 */
import { VfsFailure } from "./failure.ts";
import type { Vfs, VfsActionHandler, VfsAnswer, VfsCall } from "./call.ts";
import { DRIVE_ACTIONS } from "./drive_actions.ts";
import { FILE_ACTIONS } from "./file_actions.ts";
import { OPEN_FILE_ACTIONS } from "./open_file_actions.ts";

const ACTIONS: Record<string, VfsActionHandler> = { ...DRIVE_ACTIONS, ...FILE_ACTIONS, ...OPEN_FILE_ACTIONS };

/** Runs the call's action, or answers BadRequest for an unknown one. */
export function act(vfs: Vfs, c: VfsCall): Promise<VfsAnswer> {
  const handler = Object.hasOwn(ACTIONS, c.action) ? ACTIONS[c.action] : undefined;
  if (!handler) throw new VfsFailure({ BadRequest: { error: `unknown action ${JSON.stringify(c.action)}` } });
  return handler(vfs, c);
}
