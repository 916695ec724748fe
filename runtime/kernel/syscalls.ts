/**
 * System calls from process workers: sends (stamped with the true source,
 * checked for size, capabilities and pending limits), prints, state, on-exit,
 * and the calls that answer (capabilities, spawn).
 */
import type { FromProcess, SpawnArgs } from "../host/protocol.ts";
import {
  type Address,
  formatAddress,
  isMessageId,
  type KernelMessage,
  type LazyLoadBlob,
  type Message,
  type MessageId,
  nodeOf,
  parseAddress,
  ParseError,
  type ProcessId,
  processOf,
  randomId,
  validateCapability,
  validateMessage,
  validateOnExit,
} from "../types.ts";
import { LIMITS } from "../limits.ts";
import type { Kernel } from "./kernel.ts";
import type { Running } from "./running.ts";
import { requestBytes } from "./pending.ts";
import { spawn } from "./spawn.ts";
import { sent } from "./sole_blobs.ts";

/** The worker checks sizes where a process sends; the kernel checks again, trusting no worker. */
function checkSizes(message: Message, blob: LazyLoadBlob | null) {
  const body = ("Request" in message ? message.Request : message.Response[0]).body;
  if (body.length > LIMITS.bodyBytes) throw new ParseError(`a message body of ${body.length} bytes is over the limit`);
  if ((blob?.bytes.length ?? 0) > LIMITS.blobBytes) {
    throw new ParseError(`a blob of ${blob!.bytes.length} bytes is over the limit`);
  }
}

/** A blob from a process: null, or its mime and bytes, nothing else. */
function checkedBlob(b: unknown): LazyLoadBlob | null {
  if (b === null || b === undefined) return null;
  const { mime, bytes } = b as { mime?: unknown; bytes?: unknown };
  if (
    !(bytes instanceof Uint8Array) || !(bytes.buffer instanceof ArrayBuffer) ||
    (mime !== null && mime !== undefined && typeof mime !== "string")
  ) {
    throw new ParseError("a blob is { mime: a string or null, bytes } (bytes of their own, not shared memory)");
  }
  return { mime: mime ?? null, bytes };
}

/** An error as one line, whatever was thrown (a process's value may refuse to become a string). */
function describe(e: unknown): string {
  try {
    return e instanceof ParseError ? e.message : (e as Error).stack ?? String(e);
  } catch {
    return "an error that cannot be shown";
  }
}

export class Syscalls {
  private targets = new Map<string, Address>();

  constructor(private k: Kernel) {}

  /** A batch of system calls from a process worker. */
  fromProcess(id: ProcessId, batch: FromProcess[]) {
    const r = this.k.running.get(id);
    if (!r) return;
    for (const m of batch) {
      try {
        this.syscall(id, r, m);
      } catch (e) {
        // Nothing here may throw: `m` is the process's, and a value that cannot become a string (`{ t: {} }`) once
        // made this line throw, which ended the host of every process beside it, or the node (found by a review).
        const why = describe(e);
        const kind = typeof m?.t === "string" ? m.t.slice(0, 40) : "a call";
        this.k.print(0, `kernel: refused ${kind} from ${id}: ${why}`, { source: id, kind: "refused call" });
        if (m?.t === "call" && typeof m.call === "number") r.post({ t: "reply", call: m.call, ok: false, value: why });
      }
      if (!this.k.running.has(id)) return;
    }
  }

  private syscall(id: ProcessId, r: Running, m: FromProcess) {
    switch (m?.t) {
      case "ready":
        return;
      case "send":
        r.sent++;
        return this.sendFromProcess(id, r, m);
      case "print":
        // Scripts the terminal started, and the terminal's own package, speak to the
        // user plainly; every other process is named on each line, so none can pass
        // as another (or as the kernel). The console escapes control characters in all.
        return this.k.print(
          Number(m.verbosity) || 0,
          String(m.text),
          id.endsWith(":terminal:sys") || (m.plain && this.k.scripts.has(id))
            ? { source: id, plain: true }
            : { source: id, label: id },
        );
      case "set_state": {
        if ((m.bytes?.length ?? 0) > LIMITS.blobBytes) {
          throw new ParseError(`state of ${m.bytes!.length} bytes is over the limit`);
        }
        // The answer waits for the write and its fsync: acknowledged state survives kill -9.
        const written = this.k.state.set(id, m.bytes ? new Uint8Array(m.bytes) : null);
        const call = m.call;
        return void written.then(
          () => typeof call === "number" && this.k.running.get(id)?.post({ t: "reply", call, ok: true, value: null }),
          (e) => {
            this.k.print(0, `kernel: could not save the state of ${id}: ${(e as Error).message}`);
            if (typeof call === "number") {
              this.k.running.get(id)?.post({ t: "reply", call, ok: false, value: (e as Error).message });
            }
          },
        );
      }
      case "set_on_exit":
        return this.k.processes.update(id, { on_exit: validateOnExit(m.on_exit) });
      case "call":
        return void this.call(id, m.name, m.args).then(
          (value) => this.k.running.get(id)?.post({ t: "reply", call: m.call, ok: true, value }),
          (e) => this.k.running.get(id)?.post({ t: "reply", call: m.call, ok: false, value: (e as Error).message }),
        );
      case "exit":
        return this.k.lifecycle.exited(id, Boolean(m.ok), m.error ? String(m.error) : null);
      case "took":
        return r.took(Number(m.n) || 0);
      case "release_blob":
        return isMessageId(m.id) ? r.releaseBlob(m.id) : undefined;
      default:
        throw new ParseError(`unknown system call ${JSON.stringify((m as { t?: unknown })?.t)}`);
    }
  }

  private sendFromProcess(id: ProcessId, r: Running, m: Extract<FromProcess, { t: "send" }>) {
    const message = validateMessage(m.message);
    // Both checked here, whatever path the batch took: a rare kind's fields come as node:v8 made them, any shape (a
    // number for a context once went back to the process in a SendError and ended the node encoding it: a review).
    const blob = checkedBlob(m.blob);
    const context = m.context instanceof Uint8Array && m.context.buffer instanceof ArrayBuffer ? m.context : null;
    checkSizes(message, blob);
    const source = this.k.addr(id);
    if ("Response" in message) {
      const prompt = r.recall(m.prompt);
      if (!prompt?.isRequest) throw new ParseError("Response.send() with no request to answer");
      const resp = message.Response[0];
      resp.capabilities = this.k.caps.genuineCaps(id, resp.capabilities);
      if (m.withheld && !blob && !r.withheldBlob(m.blobFrom)) return this.noWithheld(id, m);
      const inherited = m.withheld && !blob
        ? r.takeBlob(m.blobFrom)!
        : resp.inherit && !blob
        ? r.recall(m.blobFrom)?.blob ?? null
        : null;
      r.answered(m.prompt!);
      const answer: KernelMessage = {
        id: m.prompt!,
        source,
        target: prompt.rsvp ?? prompt.source,
        rsvp: null,
        message: { Response: [resp, null] },
        lazy_load_blob: blob ?? inherited,
      };
      sent(answer, false, this.k.our);
      this.k.route(answer);
      return;
    }
    const req = message.Request;
    const targetAddr = this.checkedTarget(m.target);
    const target = { node: nodeOf(targetAddr), process: processOf(targetAddr) };
    req.capabilities = this.k.caps.genuineCaps(id, req.capabilities);
    let msgId = isMessageId(m.id) ? m.id : randomId();
    let rsvp: Address | null = null;
    const prompt = req.inherit ? r.recall(m.prompt) : undefined;
    if (req.expects_response !== null) {
      if (this.k.pending.has(msgId)) msgId = randomId();
      rsvp = source;
    } else if (prompt) {
      // An inheriting request that expects nothing continues its parent's lineage:
      // the response goes to whoever awaits the parent.
      msgId = m.prompt!;
      rsvp = prompt.isRequest && prompt.expectsResponse ? prompt.rsvp ?? prompt.source : null;
    }
    if (m.withheld && !blob && !r.withheldBlob(m.blobFrom)) return this.noWithheld(id, m, msgId);
    const inherited = m.withheld && !blob
      ? r.withheldBlob(m.blobFrom)!
      : req.inherit && !blob
      ? r.recall(m.blobFrom)?.blob ?? null
      : null;
    const km: KernelMessage = {
      id: msgId,
      source,
      target: targetAddr,
      rsvp,
      message: { Request: req },
      lazy_load_blob: blob ?? inherited,
    };
    // Decided now, whatever happens to the send below: a refused one leaves the blob where it was, as it was.
    const release = sent(km, m.withheld === true && !blob, this.k.our);
    if (req.expects_response !== null) {
      const refused = this.k.pending.refusal(id, requestBytes(km));
      if (refused) {
        this.k.print(0, `kernel: ${refused}`, { source: id, kind: "pending limit" });
        r.post({
          t: "err",
          id: msgId,
          error: { kind: "Offline", target: targetAddr, message: km.message, lazy_load_blob: null },
          context,
        });
        return;
      }
      this.k.expect(id, km, context, m.keepBlob === true, release);
    }
    if (!this.k.caps.mayMessage(id, targetAddr)) {
      this.k.print(
        0,
        target.node === this.k.our
          ? `kernel: ${id} may not message ${target.process}: add "${target.process}" to request_capabilities in its manifest, or make the target public`
          : `kernel: ${id} may not use the network: set "request_networking": true in its manifest`,
        { source: id, kind: "refused send" },
      );
      // Refused before it was routed: no answer can come to it.
      this.k.fail(msgId, "Offline", false);
      return;
    }
    // A withheld blob goes with the message: the kernel holds it for this process no longer.
    if (m.withheld && !blob) r.releaseBlob(m.blobFrom!);
    this.k.route(km);
  }

  /**
   * A send naming a withheld blob this process does not have (passed on or
   * released already, or never its own): refused, and a request's sender
   * hears Offline rather than waiting for its timeout.
   */
  private noWithheld(id: ProcessId, m: Extract<FromProcess, { t: "send" }>, msgId?: MessageId) {
    const r = this.k.running.get(id)!;
    this.k.print(
      0,
      `kernel: refused a send from ${id}: the kernel keeps no blob of message ${m.blobFrom} for it (passed on or released already, or never received by it)`,
      { source: id, kind: "refused send" },
    );
    const req = "Request" in m.message ? m.message.Request : null;
    if (msgId !== undefined && req?.expects_response !== null && req?.expects_response !== undefined) {
      r.post({
        t: "err",
        id: msgId,
        error: { kind: "Offline", target: m.target, message: m.message, lazy_load_blob: null },
        context: m.context instanceof Uint8Array && m.context.buffer instanceof ArrayBuffer ? m.context : null,
      });
    }
  }

  /** A target address from a process, validated once and remembered. */
  private checkedTarget(raw: string): Address {
    let a = this.targets.get(raw);
    if (a === undefined) {
      const t = parseAddress(raw, this.k.our);
      a = formatAddress(t.node, t.process);
      if (this.targets.size > 10_000) this.targets.clear();
      this.targets.set(raw, a);
    }
    return a;
  }

  private async call(id: ProcessId, name: string, args: unknown): Promise<unknown> {
    switch (name) {
      case "our_capabilities":
        return this.k.processes.capabilities(id);
      case "save_capabilities": {
        // Only capabilities that arrived on a message are genuine; the kernel
        // filtered those on the way in, so what the process holds or was sent
        // by the issuer is saved, anything else refused.
        const caps = (args as unknown[]).map(validateCapability);
        this.k.processes.grant(id, caps.filter((c) => this.k.caps.wasSent(id, c)));
        return null;
      }
      case "drop_capabilities":
        this.k.processes.drop(id, (args as unknown[]).map(validateCapability));
        return null;
      case "spawn":
        return await spawn(this.k, id, args as SpawnArgs);
      case "fetch_blob": {
        const msg = (args as { id?: unknown })?.id;
        const blob = isMessageId(msg) ? this.k.running.get(id)?.withheldBlob(msg) : undefined;
        if (!blob) throw new ParseError(`the kernel keeps no blob of message ${String(msg)} for ${id}`);
        return { mime: blob.mime, bytes: blob.bytes };
      }
      case "keep_incoming_blobs": {
        const r = this.k.running.get(id);
        if (r) r.keepIncomingBlobs = (args as { on?: unknown })?.on === true;
        return null;
      }
      default:
        throw new ParseError(`unknown call ${JSON.stringify(name)}`);
    }
  }
}
