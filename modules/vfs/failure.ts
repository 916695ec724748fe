/** A VfsError as a thrown value inside the module. */
import type { VfsError } from "../../runtime/api/vfs.ts";

export class VfsFailure extends Error {
  constructor(readonly error: VfsError) {
    super(JSON.stringify(error));
  }
}
