/**
 * The shape kv:distro:sys and sqlite:distro:sys share: parse a request
 * `{package_id, db, action}`, check the sender, run the action against an
 * engine in a permission-limited worker, and answer with the book's
 * response or error enum.
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import {
  ModuleWorker,
  type ModuleWorkerOptions,
  WorkerRefusal,
  WorkerStuck,
  WorkerTimeLimit,
} from "../../runtime/kernel/module_worker.ts";
import { type KernelMessage, type LazyLoadBlob, packageOf, type ProcessId, processOf } from "../../runtime/types.ts";
import { parseVariant } from "../../runtime/api/variant.ts";
import { answer, requestJson } from "../../runtime/kernel/module_answer.ts";
import { dbCap, type DbKey, dbKey, DbRequestError, Transactions } from "./access.ts";

export interface DbAction {
  source: ProcessId;
  key: DbKey;
  name: string;
  arg: unknown;
  blob: Uint8Array | null;
}

/** How long one call may run before its package's worker is stopped, and how long an idle one is kept. */
export interface DbLimits {
  timeLimitMs?: number;
  idleMs?: number;
  /** Run each package's engine in a child process, which can be stopped even inside native code. */
  process?: boolean;
}

export abstract class DbModule<Op> implements RuntimeModule {
  readonly public = false;
  /** One engine worker per package, started on first use: one package's slow work never waits on another's. */
  private workers = new Map<string, ModuleWorker>();
  protected txs = new Transactions<Op>();
  private root: string;

  /**
   * @param engineError the error variant that carries the engine's own message
   *   (the book names it after the Rust engine: RocksDBError, RusqliteError)
   */
  constructor(
    protected k: KernelHandle,
    readonly process: ProcessId,
    folder: string,
    private workerEntry: URL,
    private engineError: string,
    private limits: DbLimits = {},
  ) {
    this.root = `${k.home}/${folder}`;
    Deno.mkdirSync(this.root, { recursive: true });
  }

  /** The package's worker: it may read and write that package's folder only. */
  private workerFor(packageId: string): ModuleWorker {
    let w = this.workers.get(packageId);
    if (w) return w;
    const dir = `${this.root}/${packageId}`;
    Deno.mkdirSync(dir, { recursive: true });
    const { timeLimitMs, idleMs, process } = this.limits;
    const opts: ModuleWorkerOptions = {
      process,
      timeLimitMs,
      idleMs,
      init: ["init", this.root],
      onTimeLimit: () =>
        this.k.print(
          0,
          `${this.process}: ${packageId}: a call ran longer than ${timeLimitMs} ms; its worker was stopped`,
        ),
    };
    w = new ModuleWorker(this.workerEntry, { read: [dir], write: [dir] }, opts);
    this.workers.set(packageId, w);
    return w;
  }

  protected abstract act(a: DbAction): Promise<[unknown, LazyLoadBlob | null]>;

  handle(km: KernelMessage) {
    if (!("Request" in km.message)) return;
    answer(this.k, km, this.run(km), { label: this.process, otherError: (e) => ({ IOError: (e as Error).message }) });
  }

  private granted = new Set<string>();
  private grantedVersion = -1;

  /** Checks a read or write capability; granted answers are remembered until capabilities change. */
  protected cap(source: ProcessId, kind: "read" | "write", key: DbKey) {
    if (this.grantedVersion !== this.k.capsVersion) {
      this.granted.clear();
      this.grantedVersion = this.k.capsVersion;
    }
    const memo = `${source}\n${kind}\n${key.packageId}\n${key.db}`;
    if (this.granted.has(memo)) return;
    if (!this.k.hasCap(source, dbCap(this.k.our, this.process, kind, key))) {
      throw new DbRequestError(kind === "read" ? "NoReadCap" : "NoWriteCap");
    }
    this.granted.add(memo);
  }

  /** Runs `op` in the worker of package `args[0]`. */
  protected async engine<T>(op: string, ...args: unknown[]): Promise<T> {
    try {
      return await this.workerFor(args[0] as string).call<T>(op, ...args);
    } catch (e) {
      if (e instanceof WorkerTimeLimit) {
        const s = (this.limits.timeLimitMs ?? 0) / 1000;
        throw new DbRequestError({
          [this.engineError]: `interrupted: the call ran longer than ${s} s and was stopped`,
        });
      }
      if (e instanceof WorkerStuck) {
        throw new DbRequestError({
          [this.engineError]: "stopped: an earlier call of this package ran past the time limit and could not be " +
            "interrupted (this node cannot start engine processes); its databases are closed until the node restarts",
        });
      }
      if (e instanceof WorkerRefusal) {
        // The engine's own checks refuse with the book's variant; NoDb gets the database's key here.
        throw new DbRequestError(e.variant === "NoDb" ? { NoDb: [args[0], args[1]] } : e.variant);
      }
      throw new DbRequestError({ [this.engineError]: (e as Error).message });
    }
  }

  private async run(km: KernelMessage): Promise<[unknown, LazyLoadBlob | null]> {
    const req = requestJson(km, () => new DbRequestError("MalformedRequest")) as {
      package_id?: unknown;
      db?: unknown;
      action?: unknown;
    };
    const key = req && typeof req === "object" ? dbKey(req.package_id, req.db) : null;
    if (!key) throw new DbRequestError("MalformedRequest");
    // Databases are local: a remote process holds no capability here.
    if (!km.source.startsWith(`${this.k.our}@`)) throw new DbRequestError("NoReadCap");
    const source = processOf(km.source);
    const [name, arg] = parseVariant(req.action) ?? ["", undefined];
    const blob = km.lazy_load_blob?.bytes ?? null;
    if (name === "Open" || name === "RemoveDb") {
      if (packageOf(source) !== key.packageId) throw new DbRequestError("MismatchingPackageId");
      if (name === "Open") {
        await this.engine("open", key.packageId, key.db);
        this.k.grantCaps(source, [
          dbCap(this.k.our, this.process, "read", key),
          dbCap(this.k.our, this.process, "write", key),
        ]);
      } else {
        this.txs.dropFor(key);
        await this.engine("remove", key.packageId, key.db);
      }
      return ["Ok", null];
    }
    if (name === "BeginTx") {
      this.cap(source, "write", key);
      await this.engine("exists", key.packageId, key.db);
      return [{ BeginTx: { tx_id: this.txs.begin(source, key) } }, null];
    }
    return await this.act({ source, key, name, arg, blob });
  }

  /** The transaction `id` as its owner asks for it, or the book's NoTx. */
  protected tx(id: unknown, a: DbAction) {
    const tx = this.txs.get(id, a.source, a.key);
    if (!tx) throw new DbRequestError({ NoTx: id ?? null });
    return tx;
  }

  processExited(process: ProcessId) {
    this.txs.dropOwnedBy(process);
  }

  async shutdown() {
    const workers = [...this.workers.values()];
    this.workers.clear();
    await Promise.all(workers.map((w) => w.close()));
  }
}
