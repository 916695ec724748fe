/** VfsErrors as thrown values inside the module, and the VfsError of anything else thrown. */
import type { VfsError } from "../../runtime/api/vfs.ts";
import { ModuleError } from "../../runtime/kernel/module_answer.ts";
import { VfsPathError } from "./paths.ts";

export class VfsFailure extends ModuleError<VfsError> {}

/** A limit was reached: the offender gets the error, and the log says so. */
export class VfsLimit extends VfsFailure {}

/** The VfsError for a failure that is not a VfsFailure (a missing file, a bad path, any I/O error). */
export function ioError(e: unknown, path: string): VfsError {
  if (e instanceof Deno.errors.NotFound) return { NotFound: { path } };
  if (e instanceof VfsPathError) return { ParseError: { error: e.message, path: e.path } };
  return { IOError: { error: (e as Error)?.message ?? String(e), path } };
}
