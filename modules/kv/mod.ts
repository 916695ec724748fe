/**
 * kv:distro:sys — the book's KV API. Requests are checked on the kernel's
 * thread; the store runs in a worker that may touch only <home>/kv.
 */
import type { KernelHandle } from "../../runtime/kernel/module.ts";
import type { LazyLoadBlob } from "../../runtime/types.ts";
import { DbRequestError, jsonBytes } from "../db/access.ts";
import { type DbAction, DbModule } from "../db/db_module.ts";
import type { KvOp } from "./engine.ts";
import { decodeFrames, encodeFrames } from "../../runtime/frames.ts";
import { KV } from "../../runtime/api/processes.ts";
import type { KvResponse } from "../../runtime/api/kv.ts";

export class KvModule extends DbModule<KvOp> {
  constructor(k: KernelHandle) {
    // KV runs fixed statements that cannot run away, so a thread per package suffices.
    super(k, KV, "kv", new URL("./worker.ts", import.meta.url), "RocksDBError", { idleMs: 60_000 });
  }

  protected async act(a: DbAction): Promise<[KvResponse, LazyLoadBlob | null]> {
    const { key } = a;
    switch (a.name) {
      case "Get": {
        this.cap(a.source, "read", key);
        const k = jsonBytes(a.arg);
        if (!k) throw new DbRequestError("MalformedRequest");
        const v = await this.engine<Uint8Array | null>("get", key.packageId, key.db, k);
        if (v === null) throw new DbRequestError("KeyNotFound");
        return [{ Get: [...k] }, { mime: null, bytes: v }];
      }
      case "GetMany": {
        // hyperdeno extension: many gets in one request (blob: frames of keys;
        // answer blob: frames of values, null where a key is not found).
        this.cap(a.source, "read", key);
        const keys = a.blob ? decodeFrames(a.blob, 100_000) : null;
        if (!keys || keys.some((k) => k === null)) throw new DbRequestError("MalformedRequest");
        const values = await this.engine<(Uint8Array | null)[]>("getMany", key.packageId, key.db, keys);
        return ["GetMany", { mime: null, bytes: encodeFrames(values) }];
      }
      case "Set":
      case "Delete": {
        this.cap(a.source, "write", key);
        const arg = a.arg as { key?: unknown; tx_id?: unknown } | undefined;
        const k = jsonBytes(arg?.key);
        if (!k || (a.name === "Set" && !a.blob)) throw new DbRequestError("MalformedRequest");
        const op: KvOp = a.name === "Set" ? { set: [k, a.blob!] } : { del: k };
        if (arg?.tx_id !== undefined && arg.tx_id !== null) {
          this.tx(arg.tx_id, a).ops.push(op);
        } else await this.engine("apply", key.packageId, key.db, [op]);
        return ["Ok", null];
      }
      case "Commit": {
        this.cap(a.source, "write", key);
        const id = (a.arg as { tx_id?: unknown } | undefined)?.tx_id;
        const tx = this.tx(id, a);
        this.txs.end(id as number);
        await this.engine("apply", key.packageId, key.db, tx.ops);
        return ["Ok", null];
      }
      default:
        throw new DbRequestError("MalformedRequest");
    }
  }
}
