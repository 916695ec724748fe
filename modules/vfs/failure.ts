/** A VfsError as a thrown value inside the module. */
import type { VfsError } from "../../runtime/api/vfs.ts";
import { ModuleError } from "../../runtime/kernel/module_answer.ts";

export class VfsFailure extends ModuleError<VfsError> {}
