/** Database files on disk, for the engines inside the kv and sqlite workers. */

/** Throws the engine's NoDb unless the database file exists. */
export function mustExist(path: string) {
  try {
    Deno.statSync(path);
  } catch {
    throw new Error("NoDb");
  }
}

/** Removes a SQLite file with its WAL and shared-memory files; NoDb if there was none. */
export function removeDbFiles(path: string) {
  let existed = false;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      Deno.removeSync(path + suffix);
      if (suffix === "") existed = true;
    } catch { /* not there */ }
  }
  if (!existed) throw new Error("NoDb");
}

/** Opens (or creates) a SQLite file the way both engines want it: WAL, synced at checkpoints. */
export const JOURNAL = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
