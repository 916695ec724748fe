/** AddZip from the module's side: the archive is unpacked in the zip worker, off the kernel's thread. */
import { ModuleWorker, WorkerRefusal } from "../../runtime/kernel/module_worker.ts";
import type { ZipRefusal } from "./zip_worker.ts";
import type { VfsPath } from "./paths.ts";
import { MAX_ZIP_ENTRIES, MAX_ZIP_UNPACKED_BYTES } from "./limits.ts";
import { VfsFailure, VfsLimit } from "./failure.ts";

export class ZipUnpacker {
  /** Started on first use; it may read and write <home>/vfs only. */
  private worker: ModuleWorker | null = null;

  constructor(private root: string) {}

  async unpack(p: VfsPath, bytes: Uint8Array) {
    const root = this.root;
    this.worker ??= new ModuleWorker(new URL("./zip_worker.ts", import.meta.url), { read: [root], write: [root] });
    const limits = { entries: MAX_ZIP_ENTRIES, bytes: MAX_ZIP_UNPACKED_BYTES };
    try {
      await this.worker.call("extract", root, p.path, bytes, limits);
    } catch (e) {
      const refusal = e instanceof WorkerRefusal ? e.variant as ZipRefusal : null;
      if (refusal && "limit" in refusal) {
        throw new VfsLimit({
          BadRequest: {
            error: `AddZip refused: ${refusal.limit} (at most ${MAX_ZIP_ENTRIES} entries and ${
              MAX_ZIP_UNPACKED_BYTES / 2 ** 20
            } MiB unpacked)`,
          },
        });
      }
      if (refusal) throw new VfsFailure({ ParseError: { error: refusal.path, path: p.path } });
      const why = (e as Error).message;
      throw new VfsFailure({ BadRequest: { error: `AddZip: not an archive this node unpacks: ${why}` } });
    }
  }

  terminate() {
    this.worker?.terminate();
  }
}
