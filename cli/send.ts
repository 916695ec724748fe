/**
 * `send FILE NODE`: a file from anywhere on this machine to another node, as
 * scp would. The file streams into the local node's Kino Files (its files
 * drive, spooled to disk as it arrives), is pushed to NODE, which downloads
 * and verifies it, and leaves the files drive again when the push ends
 * (--keep keeps it). Exit 0 only once NODE has verified the file's SHA-256.
 */
import { basename } from "node:path";
import { Refusal } from "../runtime/errors.ts";
import type { TransferView } from "../packages/file-transfer/api/types.ts";
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { howLong, KinoFiles, localLine, ProgressLine } from "./kino_files.ts";
import { onInterrupt, WAIT_FLAG, waitMs } from "./transfer_flags.ts";

export const spec: CommandSpec = {
  name: "send",
  summary: "Send a file to another node, as scp would (it must allow pushes from this node)",
  usage: "hyperdeno send [OPTIONS] <FILE> <NODE>",
  positionals: [
    { name: "<FILE>", help: "The file to send, from any folder", required: true },
    { name: "<NODE>", help: "The node to send it to, e.g. fake2.dev", required: true },
  ],
  flags: [
    { long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "localhost port of the node that sends it" },
    { long: "name", short: "n", value: "NAME", help: "The name it gets there (default: FILE's own)" },
    { long: "keep", bool: true, help: "Keep the copy in this node's files drive once sent" },
    WAIT_FLAG,
  ],
};

/** How long NODE may take to start downloading what it accepted. */
const START_MS = 60_000;

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  const wait = waitMs(flags.wait);
  const [file, node] = positionals;
  let size: number;
  try {
    const st = Deno.statSync(file);
    if (!st.isFile) throw new UsageError(`${file} is not a file (send one file at a time)`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const name = String(flags.name ?? basename(file));
  const ft = new KinoFiles(port);
  const before = new Set((await ft.transfers()).map((t) => t.id));
  const line = new ProgressLine();
  const t0 = Date.now();

  const staged = await ft.app.upload(
    `/api/upload?name=${encodeURIComponent(name)}`,
    file,
    size,
    (n) => line.show(localLine(`staging ${name} in the node`, n, size, t0)),
  );
  line.end();
  if (staged.status === 409) {
    throw new Refusal(
      `${name} is already in the files drive of the node on port ${port}: send it under another name (--name NAME)`,
    );
  }
  const placed = String(ft.check(staged).name);
  const stop = onInterrupt(async () => {
    line.end();
    if (!flags.keep) await ft.remove(placed);
  });
  try {
    await ft.call("push", { node, name: placed });
    const newest = (all: TransferView[]) =>
      all.filter((t) => t.direction === "upload" && t.peer === node && t.name === placed && !before.has(t.id))
        .at(-1);
    const t = await ft.follow(newest, (t, quiet) => {
      if (!t) return quiet > START_MS ? `${node} accepted ${placed} but did not start downloading it` : null;
      return quiet > wait ? `interrupted at ${t.bytes} of ${t.size} bytes: ${t.error}` : null;
    }, line);
    line.end();
    if (t.status !== "done") throw new Refusal(t.error ?? `the transfer was ${t.status}`);
    console.log(`sent ${placed} to ${node}: ${howLong(size, Date.now() - t0)}, SHA-256 verified by ${node}`);
    return 0;
  } finally {
    line.end();
    stop();
    if (!flags.keep) await ft.remove(placed);
  }
}
