/**
 * terminal:distro:sys — the node's console. Each line typed (or piped) on
 * stdin goes as a Request to the terminal app, terminal:terminal:sys, where
 * the command logic lives; everything processes print comes out here,
 * filtered by verbosity, escaped (no text carries a control character to the
 * screen), labelled with its source, and rate-limited (see repeat_limiter.ts).
 */
import { writeStdout } from "./stdout.ts";
import type { KernelHandle, LineOrigin, RuntimeModule } from "../../runtime/kernel/module.ts";
import { type KernelMessage, nodeOf, processOf, utf8 } from "../../runtime/types.ts";
import { LineEditor } from "./line_editor.ts";
import { printable, printableLines } from "./printable.ts";
import { RepeatLimiter } from "./repeat_limiter.ts";
import { moduleAddress, TERMINAL, TERMINAL_APP } from "../../runtime/api/processes.ts";

export interface TerminalOptions {
  verbosity: number;
  /** Prefix for every printed line, e.g. the node name when several share a screen. */
  label?: string;
  /** Read commands from stdin (off for nodes booted inside tests). */
  stdin: boolean;
  /** Where printed lines go; stdout by default. */
  write?: (line: string) => void;
  onExit?: () => void;
}

export class TerminalModule implements RuntimeModule {
  readonly process = TERMINAL;
  readonly public = false;
  private editor: LineEditor | null = null;
  private closed = false;
  private write: (line: string) => void;
  private limiter: RepeatLimiter;
  /** Status lines by source (see status()), and whether one is on the screen now. */
  private statuses = new Map<string, string>();
  private statusShown = false;
  private inPlace: boolean;
  private statusPrinted = new Map<string, number>();
  private statusTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private k: KernelHandle, private opts: TerminalOptions) {
    const out = (line: string) => {
      const text = opts.label ? line.split("\n").map((l) => `${opts.label} ${l}`).join("\n") : line;
      if (this.editor) this.editor.printAbove(text);
      else {writeStdout(
          utf8(`${this.statusShown ? "\r\x1b[2K" : ""}${text}\n${this.statusShown ? this.statusText() : ""}`),
        );}
    };
    this.write = opts.write ?? out;
    this.inPlace = !opts.write && isTty();
    this.limiter = new RepeatLimiter((v, line) => v <= this.opts.verbosity && this.write(printable(line)));
  }

  get verbosity(): number {
    return this.opts.verbosity;
  }

  /**
   * Prints `text` if the verbosity allows and its source has not flooded the
   * window. Without an origin, the source is the text's own prefix ("kernel",
   * "net") and only identical lines (numbers aside) are collapsed.
   */
  print(verbosity: number, text: string, origin?: LineOrigin) {
    if (verbosity > this.opts.verbosity) return;
    const source = origin?.source ?? text.slice(0, Math.max(0, text.indexOf(": "))).slice(0, 64);
    const kind = origin?.kind ?? text.slice(0, 200).replace(/\d+/g, "#");
    if (!this.limiter.admit(source, kind, text, verbosity, origin !== undefined)) return;
    this.write(render(text, origin));
  }

  /** Starts reading commands; resolves when stdin closes. */
  async start(): Promise<void> {
    if (!this.opts.stdin) return;
    if (Deno.stdin.isTerminal()) {
      this.editor = new LineEditor(`${this.k.our} > `, {
        onLine: (line) => this.command(line),
        onVerbosity: () => {
          this.opts.verbosity = (this.opts.verbosity + 1) % 4;
          this.editor?.printAbove(`verbosity is now ${this.opts.verbosity}`);
        },
        onExit: () => this.opts.onExit?.(),
      });
      await this.editor.run();
      return;
    }
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of Deno.stdin.readable) {
      if (this.closed) break;
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.command(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
    if (buf.trim()) this.command(buf);
  }

  /** One command line, as if typed. */
  command(line: string) {
    const trimmed = line.trim();
    if (!trimmed) return;
    this.k.send(this.process, {
      target: moduleAddress(this.k.our, TERMINAL_APP),
      message: {
        Request: { inherit: false, expects_response: null, body: utf8(trimmed), metadata: null, capabilities: [] },
      },
    });
  }

  handle(km: KernelMessage) {
    // Local processes holding our capability may ask us to print; the terminal's own package
    // speaks plainly, anyone else under its name. Nothing from another node gets here.
    if (!("Request" in km.message)) return;
    const source = processOf(km.source);
    if (nodeOf(km.source) !== this.k.our) {
      return this.print(0, `terminal: refused a print request from ${km.source}: only local processes print here`, {
        source: nodeOf(km.source),
        kind: "remote print",
      });
    }
    const text = new TextDecoder().decode(km.message.Request.body);
    if (km.message.Request.metadata === "status") return this.status(source, text);
    this.print(0, text, source.endsWith(":terminal:sys") ? { source, plain: true } : { source, label: source });
  }

  /**
   * A status line (a request whose metadata is "status"): progress that
   * changes in place instead of scrolling. On a screen it is one line above
   * the prompt (or the last line), rewritten each time; an empty text
   * removes it. Where output is a pipe or a log, it is printed as a line at
   * most every STATUS_LOG_MS per source.
   */
  status(source: string, text: string) {
    const line = printable(text).slice(0, 400);
    if (line) this.statuses.set(source, line);
    else this.statuses.delete(source);
    if (this.editor) return this.editor.setStatus(this.statusText() || null);
    if (this.inPlace) {
      writeStdout(utf8(`\r\x1b[2K${this.statusText()}`));
      this.statusShown = this.statuses.size > 0;
      return;
    }
    // Logged a second after it changes, then at most every STATUS_LOG_MS, as it is then.
    if (!line || this.statusTimers.has(source)) return;
    const last = this.statusPrinted.get(source) ?? 0;
    const wait = Math.max(1000, last + STATUS_LOG_MS - Date.now());
    this.statusTimers.set(
      source,
      setTimeout(() => {
        this.statusTimers.delete(source);
        const now = this.statuses.get(source);
        if (!now || this.closed) return;
        this.statusPrinted.set(source, Date.now());
        this.print(0, now, { source, label: source, kind: "status" });
      }, wait),
    );
  }

  private statusText(): string {
    return [...this.statuses.values()].join("  ||  ");
  }

  shutdown() {
    this.closed = true;
    for (const t of this.statusTimers.values()) clearTimeout(t);
    this.limiter.flush();
    this.editor?.close();
  }
}

const STATUS_LOG_MS = 5_000;

function isTty(): boolean {
  try {
    return Deno.stdout.isTerminal();
  } catch {
    return false;
  }
}

/**
 * A text as the screen shows it: every line escaped; a labelled text carries
 * its label on every line, so a newline cannot start a line that seems to
 * come from someone else; other texts indent their later lines under the first.
 */
function render(text: string, origin?: LineOrigin): string {
  const lines = printableLines(text);
  if (origin?.label !== undefined) {
    const label = printable(origin.label);
    const prefix = origin.bold ? `\x1b[1m${label}\x1b[0m: ` : `${label}: `;
    return lines.map((l) => prefix + l).join("\n");
  }
  if (origin?.plain) return lines.join("\n");
  return lines.map((l, i) => i === 0 || l === "" ? l : `  ${l}`).join("\n");
}
