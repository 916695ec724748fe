/** Shared request plumbing for the kv and sqlite helpers. */
import { Request } from "./builders.ts";
import { ourModule } from "./modules.ts";
import { KV, SQLITE } from "../api/processes.ts";
import type { KvError } from "../api/kv.ts";
import type { SqliteError } from "../api/sqlite.ts";

const MODULES = { kv: KV, sqlite: SQLITE };

export class DbError extends Error {
  override name = "DbError";
  constructor(readonly error: KvError | SqliteError, readonly module: string) {
    super(`${module}: ${JSON.stringify(error)}`);
  }
}

export async function dbRequest(
  module: "kv" | "sqlite",
  packageId: string,
  db: string,
  action: unknown,
  blob?: Uint8Array,
): Promise<{ body: unknown; blob: Uint8Array | null }> {
  const r = Request.to(ourModule(MODULES[module])).json({
    package_id: packageId,
    db,
    action,
  });
  if (blob) r.blobBytes(blob);
  const resp = await r.sendAndAwaitResponse(60);
  const body = resp.json<unknown>();
  if (body && typeof body === "object" && "Err" in body) {
    throw new DbError((body as { Err: KvError | SqliteError }).Err, module);
  }
  return { body, blob: resp.blob()?.bytes ?? null };
}

export function dbCapability(module: "kv" | "sqlite", kind: "read" | "write", packageId: string, db: string) {
  return {
    issuer: ourModule(MODULES[module]),
    params: JSON.stringify({ kind, db_key: [packageId, db] }),
  };
}
