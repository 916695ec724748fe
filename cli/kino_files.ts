/**
 * Kino Files (packages/file-transfer) as `hyperdeno send|get|ls` use it: its
 * JSON API on the local node through the owner's endpoint (app_client.ts),
 * refusals turned into one line, and a transfer followed to its end with a
 * progress line.
 */
import { Refusal } from "../runtime/errors.ts";
import type { TransferView } from "../packages/file-transfer/api/types.ts";
import { humanBytes, humanDuration, progressLine } from "../packages/file-transfer/api/format.ts";
import { type AppAnswer, AppClient } from "./app_client.ts";

export const KINO_FILES = "file-transfer:file-transfer:template.os";
/** Where in the node's drives Kino Files keeps the files it shares and downloads (`<vfs root>/<this>/<name>`). */
export const KINO_FILES_DRIVE = "file-transfer:template.os/files";
/** How often a followed transfer is looked at. */
const POLL_MS = 250;

export class KinoFiles {
  readonly app: AppClient;

  constructor(readonly port: number) {
    this.app = new AppClient(port, KINO_FILES);
  }

  /** GET (or POST `body` to) `api/<path>`; a refusal becomes a Refusal saying it. */
  async call(path: string, body?: unknown): Promise<AppAnswer["body"]> {
    return this.check(await this.app.json(`/api/${path}`, body));
  }

  check(a: AppAnswer): AppAnswer["body"] {
    if (a.status >= 200 && a.status < 300) return a.body;
    const error = a.body.error ?? `HTTP ${a.status}`;
    if (a.status === 404 && error.startsWith("no process has bound")) {
      throw new Refusal(
        `Kino Files (${KINO_FILES}) is not running on the node at port ${this.port}: ` +
          `install it with \`hyperdeno bs packages/file-transfer -p ${this.port}\` in a hyperdeno checkout`,
      );
    }
    throw new Refusal(error);
  }

  async transfers(): Promise<TransferView[]> {
    return (await this.call("transfers")).transfers as TransferView[];
  }

  /** Removes `name` from the node's files drive; false if it could not. */
  async remove(name: string): Promise<boolean> {
    return (await this.app.json("/api/delete", { name }).catch(() => null))?.status === 200;
  }

  /**
   * Looks at the transfers until `pick` finds one that has ended (done,
   * failed, cancelled), showing the one it finds as it moves. `giveUp` is
   * asked, while none is found or the one found is interrupted, with how long
   * nothing has changed: a reason ends the wait with a Refusal, null waits on.
   */
  async follow(
    pick: (all: TransferView[]) => TransferView | undefined,
    giveUp: (t: TransferView | undefined, quietMs: number) => string | null,
    line: ProgressLine,
  ): Promise<TransferView> {
    let since = Date.now();
    let last = "";
    while (true) {
      const t = pick(await this.transfers());
      if (t) {
        if (t.status === "done" || t.status === "failed" || t.status === "cancelled") return t;
        // Quiet means no byte moved: retries flip the status without moving any.
        const key = `${t.id}:${t.bytes}`;
        if (key !== last) since = Date.now();
        last = key;
        if (t.status === "interrupted") {
          const why = giveUp(t, Date.now() - since);
          if (why !== null) throw new Refusal(why);
          line.show(`${progressLine(t)} (interrupted: ${t.error ?? "?"}; waiting for it to resume)`);
        } else line.show(progressLine(t));
      } else {
        const why = giveUp(undefined, Date.now() - since);
        if (why !== null) throw new Refusal(why);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

/** One line that updates in place on a terminal; elsewhere (a pipe, a log) a line a second at most. */
export class ProgressLine {
  private tty = Deno.stderr.isTerminal();
  private shown = false;
  private lastAt = 0;
  private enc = new TextEncoder();

  show(text: string) {
    if (this.tty) {
      Deno.stderr.writeSync(this.enc.encode(`\r\x1b[K${text}`));
      this.shown = true;
    } else if (Date.now() - this.lastAt >= 1000) {
      this.lastAt = Date.now();
      Deno.stderr.writeSync(this.enc.encode(`${text}\n`));
    }
  }

  /** Ends the line so what follows starts on its own. */
  end() {
    if (this.tty && this.shown) Deno.stderr.writeSync(this.enc.encode("\r\x1b[K"));
    this.shown = false;
  }
}

/** `12 MiB in 3.2s (3.7 MiB/s)`. */
export function howLong(bytes: number, ms: number): string {
  const s = Math.max(ms, 1) / 1000;
  return `${humanBytes(bytes)} in ${humanDuration(s)} (${humanBytes(Math.round(bytes / s))}/s)`;
}

/** A staging or copying progress line for bytes moving between this machine and its node. */
export function localLine(what: string, bytes: number, size: number, startedMs: number): string {
  const pct = size === 0 ? 100 : Math.floor(bytes / size * 100);
  const s = (Date.now() - startedMs) / 1000;
  const rate = s > 0 ? bytes / s : 0;
  return `${what} ${pct}% ${humanBytes(bytes)}/${humanBytes(size)} ${humanBytes(Math.round(rate))}/s`;
}
