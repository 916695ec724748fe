/**
 * Request and Response builders, read like the book's Rust:
 * `Request.to(addr).body(...).expectsResponse(5).send()`.
 */
import {
  type Address,
  type Capability,
  type KernelMessage,
  type LazyLoadBlob,
  type MessageId,
  randomId,
  type Request as RequestShape,
  utf8,
} from "../types.ts";
import { Message, ProcessAddress, SendError } from "./message.ts";
import { awaitResponse, current, kept, post } from "./port.ts";

export type Body = Uint8Array | string;
const toBody = (b: Body): Uint8Array => typeof b === "string" ? utf8(b) : b;

abstract class Builder<Self> {
  protected _body: Uint8Array | null = null;
  protected _metadata: string | null = null;
  protected _blob: LazyLoadBlob | null = null;
  protected _inherit = false;
  protected _caps: Capability[] = [];
  protected _blobOf: Message | null = null;

  /** Bytes, or a string sent as UTF-8 (a JSON text stays a JSON text). */
  body(b: Body): Self {
    this._body = toBody(b);
    return this as unknown as Self;
  }
  /** Sugar for `.body(JSON.stringify(v))`. */
  json(v: unknown): Self {
    return this.body(JSON.stringify(v));
  }
  metadata(m: string | null): Self {
    this._metadata = m;
    return this as unknown as Self;
  }
  blob(b: LazyLoadBlob | null): Self {
    this._blob = b;
    return this as unknown as Self;
  }
  blobBytes(bytes: Uint8Array, mime: string | null = null): Self {
    return this.blob({ mime, bytes });
  }
  /**
   * Carries the blob `msg` arrived with, which the kernel still holds, without
   * sending its bytes back (a process forwarding or storing bulk data it
   * received: a chunk to write, a read to send on). Unlike inherit(), it names
   * the message, so it holds however many messages arrived since. A blob that
   * stayed in the kernel (keepBlobInKernel) goes once: the kernel lets go of it
   * as it sends this.
   */
  blobOf(msg: Message): Self {
    this._blobOf = msg;
    return this as unknown as Self;
  }
  inherit(on: boolean): Self {
    this._inherit = on;
    return this as unknown as Self;
  }
  capabilities(caps: Capability[]): Self {
    this._caps = caps;
    return this as unknown as Self;
  }
  attachCapability(cap: Capability): Self {
    this._caps.push(cap);
    return this as unknown as Self;
  }
  protected blobFrom(): MessageId | null {
    if (this._blobOf && !this._blob) return this._blobOf.id();
    return this._inherit && !this._blob ? current.blobFrom : null;
  }
  /** The inherit flag the kernel sees: set when a blob is carried from a received message. */
  protected inherits(): boolean {
    return this._inherit || (this._blobOf !== null && !this._blob);
  }
  /** Whether the carried blob is one the kernel keeps for us; it is spent by this send. */
  protected carriesKept(): boolean {
    const m = this._blobOf;
    if (!m?.withheld || this._blob) return false;
    if (!kept.delete(m.id())) {
      throw new Error(
        `the kernel no longer keeps the blob of message ${m.id()}: it was passed on or released already (fetchBlob(msg) first to send its bytes more than once)`,
      );
    }
    return true;
  }
}

export class Request extends Builder<Request> {
  private _target: Address | null = null;
  private _expects: number | null = null;
  private _context: Uint8Array | null = null;
  private _keepBlob = false;

  static new(): Request {
    return new Request();
  }
  static to(target: Address | ProcessAddress): Request {
    return new Request().target(target);
  }
  target(t: Address | ProcessAddress): Request {
    this._target = String(t);
    return this;
  }
  /** Expect a response within `seconds`; otherwise a Timeout SendError comes back. */
  expectsResponse(seconds: number): Request {
    this._expects = seconds;
    return this;
  }
  context(c: Body): Request {
    this._context = toBody(c);
    return this;
  }
  /**
   * The response's blob stays in the kernel: the response arrives with its
   * size and mime only (Message.blobInfo()), and `.blobOf(response)` passes the
   * bytes on without them entering this process (a VFS read sent on to
   * another node, say). `fetchBlob(response)` copies them in; `releaseBlob`
   * lets them go. The kernel keeps at most 128 MiB for a process and hands over
   * larger blobs or any past that as usual; blobs under 4 KiB always come along.
   */
  keepBlobInKernel(on = true): Request {
    this._keepBlob = on;
    return this;
  }

  private build(): { id: MessageId; target: Address; request: RequestShape } {
    if (!this._target) throw new Error("Request has no target: use Request.to(address)");
    if (!this._body) throw new Error("Request has no body: use .body(...)");
    return {
      id: randomId(),
      target: this._target,
      request: {
        inherit: this.inherits(),
        expects_response: this._expects,
        body: this._body,
        metadata: this._metadata,
        capabilities: this._caps,
      },
    };
  }

  private post(id: MessageId, target: Address, request: RequestShape) {
    const withheld = this.carriesKept();
    post({
      t: "send",
      id,
      target,
      message: { Request: request },
      blob: this._blob,
      prompt: this._inherit ? current.prompt?.id ?? null : null,
      blobFrom: this.blobFrom(),
      context: this._context,
      keepBlob: this._keepBlob,
      withheld,
    });
  }

  send(): void {
    const { id, target, request } = this.build();
    this.post(id, target, request);
  }

  /**
   * Sends and waits for the matching response; other messages stay queued
   * for awaitMessage. Rejects with a SendError on Offline or Timeout.
   */
  async sendAndAwaitResponse(seconds: number): Promise<Message> {
    this._expects = seconds;
    const { id, target, request } = this.build();
    const reply = awaitResponse(id);
    this.post(id, target, request);
    const item = await reply;
    if (item.kind === "err") throw new SendError(item.error, item.context);
    current.blob = item.km.lazy_load_blob;
    current.blobFrom = item.km.id;
    return new Message(item.km, item.context, item.withheld);
  }
}

export class Response extends Builder<Response> {
  private _prompt: KernelMessage | null = null;

  static new(): Response {
    return new Response();
  }

  /**
   * A response to `request` in particular. The book's Response answers the
   * message received last; an async process juggling several requests names
   * the one it answers.
   */
  static to(request: Message): Response {
    const r = new Response();
    r._prompt = request.km;
    return r;
  }

  /** Answers the message awaitMessage returned last, or the one given to Response.to. */
  send(): void {
    if (!this._body) throw new Error("Response has no body: use .body(...)");
    const prompt = this._prompt ?? current.prompt;
    if (!prompt) throw new Error("Response.send() has no request to answer: call awaitMessage() first");
    post({
      t: "send",
      id: prompt.id,
      target: prompt.rsvp ?? prompt.source,
      message: {
        Response: [
          { inherit: this.inherits(), body: this._body, metadata: this._metadata, capabilities: this._caps },
          null,
        ],
      },
      blob: this._blob,
      prompt: prompt.id,
      blobFrom: this.blobFrom(),
      withheld: this.carriesKept(),
    });
  }
}
