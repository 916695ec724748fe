/**
 * terminal:distro:sys — the node's console. Each line typed (or piped) on
 * stdin goes as a Request to the terminal app, terminal:terminal:sys, where
 * the command logic lives; everything processes print comes out here,
 * filtered by verbosity.
 */
import type { KernelHandle, RuntimeModule } from "../../runtime/kernel/module.ts";
import { type KernelMessage, utf8 } from "../../runtime/types.ts";
import { LineEditor } from "./line_editor.ts";

export const TERMINAL_APP = "terminal:terminal:sys";

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
  readonly process = "terminal:distro:sys";
  readonly public = false;
  private editor: LineEditor | null = null;
  private closed = false;
  private write: (line: string) => void;

  constructor(private k: KernelHandle, private opts: TerminalOptions) {
    const out = (line: string) => {
      const text = opts.label ? line.split("\n").map((l) => `${opts.label} ${l}`).join("\n") : line;
      if (this.editor) this.editor.printAbove(text);
      else Deno.stdout.writeSync(utf8(text + "\n"));
    };
    this.write = opts.write ?? out;
  }

  get verbosity(): number {
    return this.opts.verbosity;
  }

  print(verbosity: number, text: string) {
    if (verbosity <= this.opts.verbosity) this.write(text);
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
      target: this.k.our + "@" + TERMINAL_APP,
      message: {
        Request: { inherit: false, expects_response: null, body: utf8(trimmed), metadata: null, capabilities: [] },
      },
    });
  }

  handle(km: KernelMessage) {
    // The terminal app may ask us to print; anything else is ignored.
    if ("Request" in km.message) this.write(new TextDecoder().decode(km.message.Request.body));
  }

  shutdown() {
    this.closed = true;
    this.editor?.close();
  }
}
