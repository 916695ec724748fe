/** kv:distro:sys's worker: read/write on <home>/kv only. */
import {
  type Handlers,
  runCall,
  serveCalls,
  type WorkerCall,
  type WorkerReply,
} from "../../runtime/kernel/module_worker.ts";
import { KvEngine, type KvOp } from "./engine.ts";

let engine: KvEngine | null = null;
const handlers: Handlers = {
  init: (root: string) => {
    engine = new KvEngine(root);
    return null;
  },
  open: (pkg: string, db: string) => engine!.open(pkg, db),
  remove: (pkg: string, db: string) => engine!.remove(pkg, db),
  exists: (pkg: string, db: string) => engine!.exists(pkg, db),
  get: (pkg: string, db: string, key: Uint8Array) => engine!.get(pkg, db, key),
  getMany: (pkg: string, db: string, keys: Uint8Array[]) => engine!.getMany(pkg, db, keys),
  apply: (pkg: string, db: string, ops: KvOp[]) => engine!.apply(pkg, db, ops),
  close: () => engine?.close() ?? null,
};

/**
 * Group commit: consecutive `apply` calls on one database in a batch commit
 * in one transaction, and each is acknowledged once that commit is done. If
 * the group fails, its calls run one by one so each gets its own answer.
 */
function batch(calls: WorkerCall[]): WorkerReply[] {
  const out: WorkerReply[] = [];
  let i = 0;
  while (i < calls.length) {
    const c = calls[i];
    if (c.op !== "apply") {
      out.push(runCall(handlers, c));
      i++;
      continue;
    }
    let j = i + 1;
    while (
      j < calls.length && calls[j].op === "apply" && calls[j].args[0] === c.args[0] && calls[j].args[1] === c.args[1]
    ) j++;
    const group = calls.slice(i, j);
    try {
      if (group.length === 1) throw new Error("single");
      engine!.apply(c.args[0] as string, c.args[1] as string, group.flatMap((g) => g.args[2] as KvOp[]));
      for (const g of group) out.push({ id: g.id, ok: true, value: null });
    } catch {
      for (const g of group) out.push(runCall(handlers, g));
    }
    i = j;
  }
  return out;
}

serveCalls(handlers, batch);
