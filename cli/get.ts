/**
 * `get NAME NODE [-o PATH]`: a file of another node to a path of this
 * machine, as scp would. The local node downloads it into its Kino Files
 * drive (resumable, checked against NODE's SHA-256), then it is copied out to
 * PATH, hashed again on the way, and given its name only when the hashes
 * match; the node's copy then goes (--keep keeps it). Exit 0 only then.
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { Refusal } from "../runtime/errors.ts";
import { isDir } from "../runtime/fs.ts";
import type { TransferView } from "../packages/file-transfer/api/types.ts";
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { howLong, KINO_FILES_DRIVE, KinoFiles, localLine, ProgressLine } from "./kino_files.ts";
import { postToNode } from "./node_client.ts";
import { onInterrupt, WAIT_FLAG, waitMs } from "./transfer_flags.ts";

export const spec: CommandSpec = {
  name: "get",
  summary: "Get a file from another node into a folder of yours, as scp would",
  usage: "hyperdeno get [OPTIONS] <NAME> <NODE>",
  positionals: [
    { name: "<NAME>", help: "The file's name on NODE (`hyperdeno ls NODE` lists them)", required: true },
    { name: "<NODE>", help: "The node that has it, e.g. fake2.dev", required: true },
  ],
  flags: [
    {
      long: "port",
      short: "p",
      default: "8080",
      value: "NODE_PORT",
      help: "localhost port of the node that fetches it",
    },
    { long: "output", short: "o", value: "PATH", help: "Where it goes: a file path, or a folder (default: .)" },
    { long: "force", short: "f", bool: true, help: "Replace a file at PATH" },
    { long: "overwrite", bool: true, help: "Replace a file of that name in the node's files drive" },
    { long: "keep", bool: true, help: "Keep the copy in the node's files drive" },
    WAIT_FLAG,
  ],
};

/** How long a download that has not reached NODE yet keeps being retried before NODE is called unreachable. */
const REACH_MS = 10_000;

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  const wait = waitMs(flags.wait);
  const [name, node] = positionals;
  const dest = destination(flags.output as string | undefined, name, Boolean(flags.force));
  const ft = new KinoFiles(port);
  const before = new Set((await ft.transfers()).map((t) => t.id));
  const t0 = Date.now();

  const started = await ft.app.json("/api/download", { node, name, overwrite: Boolean(flags.overwrite) });
  if (started.status === 409) {
    throw new Refusal(
      `${name} is already in the files drive of the node on port ${port}: pass --overwrite to replace it with ${node}'s`,
    );
  }
  const id = String((ft.check(started).transfer as TransferView).id);
  const line = new ProgressLine();
  let placed = false;
  const tidy = async () => {
    line.end();
    await ft.call("cancel", { id }).catch(() => {});
    if (placed && !flags.keep) await ft.remove(name);
  };
  const stop = onInterrupt(tidy);
  try {
    const t = await ft.follow((all) => all.find((t) => t.id === id), (t, quiet) => {
      if (!t) return quiet > REACH_MS ? `the node on port ${port} no longer knows this download` : null;
      if (t.size === null && t.bytes === 0) return quiet > REACH_MS ? t.error : null;
      return quiet > wait ? `interrupted at ${t.bytes} of ${t.size} bytes: ${t.error}` : null;
    }, line).catch(async (e) => {
      await ft.call("cancel", { id }).catch(() => {});
      throw e;
    });
    line.end();
    if (t.status !== "done") throw new Refusal(t.error ?? `the download was ${t.status}`);
    placed = true;
    if (t.sha256 === null) {
      // A folder: the node has started a download per file under it. Those are not ours to leave running.
      for (const f of await ft.transfers()) {
        if (!before.has(f.id) && f.peer === node && f.name.startsWith(`${t.name}/`)) {
          await ft.call("cancel", { id: f.id }).catch(() => {});
        }
      }
      placed = false;
      throw new Refusal(
        `${name} is a folder on ${node}: get its files one at a time (\`hyperdeno ls ${node} ${name}\`)`,
      );
    }
    await copyOut(ft, t, dest, Boolean(flags.force), !flags.keep, line);
    console.log(`got ${t.name} from ${node}: ${howLong(t.size ?? 0, Date.now() - t0)}, SHA-256 verified → ${dest}`);
    return 0;
  } finally {
    line.end();
    stop();
    if (placed && !flags.keep) await ft.remove(name);
  }
}

/** Where the file goes: `-o` itself, or the name as NODE gives it inside `-o` (a folder) or the current folder. */
function destination(output: string | undefined, name: string, force: boolean): string {
  const given = output ?? ".";
  const dest = isDir(given) ? join(given, safeBase(name)) : given;
  if (!isDir(dirname(dest))) throw new UsageError(`-o ${given}: there is no folder ${dirname(dest)}`);
  if (isDir(dest)) {
    throw new UsageError(`${dest} is a folder: name a file, or a folder without ${basename(dest)} in it`);
  }
  if (!force && exists(dest)) throw new UsageError(`${dest} exists: pass --force to replace it`);
  return dest;
}

/** The last part of the name NODE gives, as a file name here: no separators or control characters. */
function safeBase(name: string): string {
  // deno-lint-ignore no-control-regex
  const base = name.slice(name.lastIndexOf("/") + 1).replace(/[\u0000-\u001f\u007f\\]/g, "_");
  return base === "" || base === "." || base === ".." ? "download" : base;
}

function exists(p: string): boolean {
  try {
    Deno.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** How much of the node's file is read at a time when it is read from the disk. */
const DISK_READ = 1024 * 1024;

/**
 * Where the node keeps its copy of `t`, when the node is on this machine and this user may read it there: through
 * the app it came at ~100 MiB/s. Null otherwise (another user's node, a node that does not say where its drives are,
 * a name that could leave the drive, a file not the size the node verified): then the app streams it.
 */
async function onDisk(ft: KinoFiles, t: TransferView): Promise<string | null> {
  const parts = t.name.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) return null;
  try {
    const { status, json } = await postToNode(ft.port, "/rpc:distro:sys/vfs-root", {});
    if (status !== 200 || typeof json.root !== "string") return null;
    const path = join(json.root, KINO_FILES_DRIVE, ...parts);
    // Nothing followed out of the drive: the file is where its name says, with no link on the way.
    if (await Deno.realPath(path) !== join(await Deno.realPath(json.root), KINO_FILES_DRIVE, ...parts)) return null;
    const st = await Deno.lstat(path);
    return st.isFile && st.size === t.size ? path : null;
  } catch {
    return null;
  }
}

/** The file at `path`, read in large pieces. */
async function* pieces(path: string): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  for (;;) {
    const buf = new Uint8Array(DISK_READ);
    const n = await file.read(buf);
    if (n === null) return;
    yield buf.subarray(0, n);
  }
}

/**
 * Moves the node's copy at `path` to `dest` once its SHA-256 is the one the node verified: no byte is copied, and
 * the node wrote it to disk (fsync) when the download ended. False when it cannot be renamed there (another file
 * system): then it is copied.
 */
async function moveOut(path: string, t: TransferView, dest: string, force: boolean, line: ProgressLine) {
  const hash = createHash("sha256");
  const t0 = Date.now();
  let n = 0;
  try {
    for await (const chunk of pieces(path)) {
      hash.update(chunk);
      n += chunk.length;
      line.show(localLine(`checking ${t.name} in the node's drive`, n, t.size ?? n, t0));
    }
  } finally {
    line.end();
  }
  if (hash.digest("hex") !== t.sha256) {
    throw new Refusal(
      `the node's copy of ${t.name} does not match the SHA-256 it was verified with: nothing written to ${dest}`,
    );
  }
  if (!force && exists(dest)) throw new Refusal(`${dest} appeared meanwhile: pass --force to replace it`);
  try {
    await Deno.rename(path, dest);
  } catch {
    return false;
  }
  try {
    using dir = await Deno.open(dirname(dest), { read: true });
    await dir.sync();
  } catch { /* a folder that cannot be opened to sync: the rename stands */ }
  return true;
}

/**
 * Puts the node's copy of `t` at `dest`: moved there when `move` and the node is on this machine (see onDisk),
 * else streamed to a temporary file beside `dest`, hashed, and renamed there if it matches.
 */
async function copyOut(
  ft: KinoFiles,
  t: TransferView,
  dest: string,
  force: boolean,
  move: boolean,
  line: ProgressLine,
) {
  const local = await onDisk(ft, t);
  if (local && move && await moveOut(local, t, dest, force, line)) return;
  const body = local
    ? ReadableStream.from(pieces(local))
    : await ft.app.stream(`/api/file?name=${encodeURIComponent(t.name)}`);
  if (!(body instanceof ReadableStream)) {
    ft.check(body);
    throw new Refusal(`the node sent no bytes for ${t.name}`);
  }
  const tmp = join(dirname(dest), `.${basename(dest)}.hyperdeno-${crypto.randomUUID().slice(0, 8)}.part`);
  const out = await Deno.open(tmp, { write: true, createNew: true });
  const hash = createHash("sha256");
  const t0 = Date.now();
  let n = 0;
  try {
    try {
      for await (const chunk of body) {
        hash.update(chunk);
        for (let w = 0; w < chunk.length;) w += await out.write(chunk.subarray(w));
        n += chunk.length;
        line.show(localLine(`copying ${t.name} out of the node`, n, t.size ?? n, t0));
      }
      await out.sync();
    } finally {
      out.close();
      line.end();
    }
    const got = hash.digest("hex");
    if (got !== t.sha256) {
      throw new Refusal(
        `the copy of ${t.name} taken out of the node does not match the SHA-256 it was verified with: nothing written to ${dest}`,
      );
    }
    if (!force && exists(dest)) throw new Refusal(`${dest} appeared meanwhile: pass --force to replace it`);
    await Deno.rename(tmp, dest);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
