/**
 * The files processes hold open (OpenFile, CreateFile, and the handle-based
 * actions), bounded per process and for the whole node, closed when their
 * process exits.
 */
import type { ProcessId } from "../../runtime/types.ts";
import { MAX_OPEN_FILES, MAX_OPEN_FILES_PER_PROCESS } from "./limits.ts";
import { VfsLimit } from "./failure.ts";
import { Turns } from "../../runtime/turns.ts";

export class OpenFiles {
  /** Open files per process, by VFS path. */
  private byProcess = new Map<ProcessId, Map<string, Deno.FsFile>>();
  private count = 0;
  /** Tasks on each process's file (by `source\npath`). */
  private turns = new Turns();

  /**
   * Runs `task` once every task queued before it on `source`'s file `path` has
   * ended: actions on one open file take turns in the order they came, so a
   * positional read or write (a seek, then the read or write) is one step, and
   * a process may keep many in flight.
   */
  serial<T>(source: ProcessId, path: string, task: () => Promise<T>): Promise<T> {
    return this.turns.run(`${source}\n${path}`, task);
  }

  /** Opens `host` as `source`'s file `path` (closing one it held there); a VfsLimit when too many are open. */
  async open(source: ProcessId, path: string, host: string, opts: Deno.OpenOptions): Promise<Deno.FsFile> {
    this.close(source, path);
    const held = this.byProcess.get(source)?.size ?? 0;
    if (held >= MAX_OPEN_FILES_PER_PROCESS || this.count >= MAX_OPEN_FILES) {
      const who = held >= MAX_OPEN_FILES_PER_PROCESS
        ? `this process holds ${held} open files, the most one may`
        : `the node's processes hold ${this.count} open files, the most vfs allows`;
      throw new VfsLimit({ IOError: { error: `too many open files: ${who}; CloseFile some first`, path } });
    }
    const file = await Deno.open(host, opts);
    let files = this.byProcess.get(source);
    if (!files) this.byProcess.set(source, files = new Map());
    files.set(path, file);
    this.count++;
    return file;
  }

  get(source: ProcessId, path: string): Deno.FsFile | undefined {
    return this.byProcess.get(source)?.get(path);
  }

  close(source: ProcessId, path: string) {
    const files = this.byProcess.get(source);
    const f = files?.get(path);
    if (f) {
      files!.delete(path);
      this.count--;
      try {
        f.close();
      } catch { /* already closed */ }
    }
  }

  /** Closes everything `process` holds. */
  closeAll(process: ProcessId) {
    const files = this.byProcess.get(process);
    if (!files) return;
    this.count -= files.size;
    for (const f of files.values()) {
      try {
        f.close();
      } catch { /* already closed */ }
    }
    this.byProcess.delete(process);
  }

  holders(): ProcessId[] {
    return [...this.byProcess.keys()];
  }
}
