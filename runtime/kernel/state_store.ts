/**
 * Process state (the book's set_state / get_state): one file per process,
 * written atomically and coalesced, so a process that saves after every
 * message costs one disk write per burst, not per call.
 */
import { parseProcessId, type ProcessId } from "../types.ts";
import { LatestWriter, removeStaleTemps } from "./persist.ts";

export class StateStore {
  private cache = new Map<ProcessId, Uint8Array | null>();
  private writer = new LatestWriter();

  constructor(private dir: string) {
    Deno.mkdirSync(dir, { recursive: true });
    removeStaleTemps(dir);
  }

  private path(id: ProcessId): string {
    parseProcessId(id);
    return `${this.dir}/${id}`;
  }

  get(id: ProcessId): Uint8Array | null {
    if (this.cache.has(id)) return this.cache.get(id)!;
    try {
      return Deno.readFileSync(this.path(id));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  set(id: ProcessId, bytes: Uint8Array | null): Promise<void> {
    this.cache.set(id, bytes);
    return this.writer.write(this.path(id), bytes).finally(() => {
      if (this.cache.get(id) === bytes) this.cache.delete(id);
    });
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
