/** kv:distro:sys's worker: read/write on <home>/kv only. */
import { serveCalls } from "../../runtime/kernel/module_worker.ts";
import { KvEngine, type KvOp } from "./engine.ts";

let engine: KvEngine | null = null;
serveCalls({
  init: (root: string) => {
    engine = new KvEngine(root);
    return null;
  },
  open: (pkg: string, db: string) => engine!.open(pkg, db),
  remove: (pkg: string, db: string) => engine!.remove(pkg, db),
  exists: (pkg: string, db: string) => engine!.exists(pkg, db),
  get: (pkg: string, db: string, key: Uint8Array) => engine!.get(pkg, db, key),
  apply: (pkg: string, db: string, ops: KvOp[]) => engine!.apply(pkg, db, ops),
  close: () => engine?.close() ?? null,
});
