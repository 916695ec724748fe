/**
 * The terminal's status line for this node's transfers: one line, rewritten
 * in place (terminal:distro:sys draws a request whose metadata is "status" as
 * the line above the prompt), with percent, bytes, speed and ETA of each
 * moving transfer; cleared when none moves.
 */
import { moduleAddress, type ProcessAddress, Request, TERMINAL } from "@hyperdeno/process_lib";
import { progressLine } from "../api/format.ts";
import type { Transfers } from "./transfers.ts";

const EVERY_MS = 500;
const SHOWN = 3;

export class StatusLine {
  private last = "";

  private me: ProcessAddress;
  private transfers: Transfers;
  // Fields, not parameter properties: `new -l javascript` strips types, and those are more than types.
  constructor(me: ProcessAddress, transfers: Transfers) {
    this.me = me;
    this.transfers = transfers;
    setInterval(() => this.draw(), EVERY_MS);
  }

  private draw() {
    const moving = this.transfers.active();
    const parts = moving.slice(0, SHOWN).map(progressLine);
    if (moving.length > SHOWN) parts.push(`+${moving.length - SHOWN} more`);
    const text = parts.join("  |  ");
    if (text === this.last) return;
    this.last = text;
    Request.to(moduleAddress(this.me.node, TERMINAL)).body(text).metadata("status").send();
  }
}
