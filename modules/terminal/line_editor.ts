/**
 * A small raw-mode line editor for a TTY: left/right, home/end, backspace,
 * delete, history on up/down, Ctrl-A/E/U/K/W, Ctrl-V cycles verbosity,
 * Ctrl-C or Ctrl-D on an empty line exits. Output printed while the user
 * types appears above the prompt without eating their line.
 */
import { writeStdout } from "./stdout.ts";
const enc = new TextEncoder();
const HISTORY_MAX = 500;

export interface LineEditorHooks {
  onLine(line: string): void;
  onVerbosity(): void;
  onExit(): void;
}

export class LineEditor {
  private line = "";
  private cursor = 0;
  private history: string[] = [];
  private hIndex = 0;
  private done = false;
  /** A line kept just above the prompt and rewritten in place (progress). */
  private status: string | null = null;

  constructor(private prompt: string, private hooks: LineEditorHooks) {}

  private out(s: string) {
    writeStdout(enc.encode(s));
  }

  private redraw() {
    this.out(`\r\x1b[2K${this.prompt}${this.line}`);
    const back = this.line.length - this.cursor;
    if (back > 0) this.out(`\x1b[${back}D`);
  }

  printAbove(text: string) {
    this.out(`${this.clearStatus()}\r\x1b[2K${text.replaceAll("\n", "\r\n")}\r\n`);
    if (this.status !== null) this.out(`${this.status}\r\n`);
    if (!this.done) this.redraw();
  }

  /** Shows `text` on the line above the prompt (null removes it). */
  setStatus(text: string | null) {
    if (this.done) return;
    this.out(this.clearStatus());
    this.status = text;
    if (text !== null) this.out(`\r\x1b[2K${text}\r\n`);
    this.redraw();
  }

  /** The escape codes that wipe the status line and leave the cursor where it was. */
  private clearStatus(): string {
    return this.status === null ? "" : "\r\x1b[2K\x1b[1A\r\x1b[2K";
  }

  close() {
    if (this.done) return;
    this.done = true;
    try {
      Deno.stdin.setRaw(false);
    } catch { /* stdin already gone */ }
    this.out("\r\n");
  }

  async run() {
    Deno.stdin.setRaw(true, { cbreak: true });
    this.redraw();
    const reader = Deno.stdin.readable.getReader();
    const dec = new TextDecoder();
    try {
      while (!this.done) {
        const { value, done } = await reader.read();
        if (done) break;
        this.keys(dec.decode(value, { stream: true }));
      }
    } finally {
      reader.releaseLock();
      this.close();
    }
  }

  private keys(s: string) {
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (c === "\x1b" && s[i + 1] === "[") {
        const code = s[i + 2];
        i += 2;
        if (code === "D" && this.cursor > 0) this.cursor--;
        else if (code === "C" && this.cursor < this.line.length) this.cursor++;
        else if (code === "H") this.cursor = 0;
        else if (code === "F") this.cursor = this.line.length;
        else if (code === "A") this.recall(-1);
        else if (code === "B") this.recall(1);
        else if (code === "3" && s[i + 1] === "~") {
          i++;
          this.line = this.line.slice(0, this.cursor) + this.line.slice(this.cursor + 1);
        }
        this.redraw();
        continue;
      }
      switch (c) {
        case "\r":
        case "\n": {
          const line = this.line;
          this.out("\r\n");
          this.line = "";
          this.cursor = 0;
          if (line.trim()) {
            if (this.history.at(-1) !== line) this.history.push(line);
            if (this.history.length > HISTORY_MAX) this.history.shift();
          }
          this.hIndex = this.history.length;
          this.hooks.onLine(line);
          break;
        }
        case "\x7f":
        case "\b":
          if (this.cursor > 0) {
            this.line = this.line.slice(0, this.cursor - 1) + this.line.slice(this.cursor);
            this.cursor--;
          }
          break;
        case "\x01":
          this.cursor = 0;
          break;
        case "\x05":
          this.cursor = this.line.length;
          break;
        case "\x15":
          this.line = this.line.slice(this.cursor);
          this.cursor = 0;
          break;
        case "\x0b":
          this.line = this.line.slice(0, this.cursor);
          break;
        case "\x17": {
          const before = this.line.slice(0, this.cursor).replace(/\S*\s*$/, "");
          this.line = before + this.line.slice(this.cursor);
          this.cursor = before.length;
          break;
        }
        case "\x16":
          this.hooks.onVerbosity();
          break;
        case "\x03":
          this.hooks.onExit();
          return;
        case "\x04":
          if (this.line === "") {
            this.hooks.onExit();
            return;
          }
          break;
        default:
          if (c >= " ") {
            this.line = this.line.slice(0, this.cursor) + c + this.line.slice(this.cursor);
            this.cursor++;
          }
      }
      this.redraw();
    }
  }

  private recall(step: number) {
    const next = this.hIndex + step;
    if (next < 0 || next > this.history.length) return;
    this.hIndex = next;
    this.line = this.history[next] ?? "";
    this.cursor = this.line.length;
  }
}
