/**
 * The CLI's way into an app's HTTP API on its own node, as the node's owner
 * (modules/http_server/owner.ts: loopback, our header, no login cookie). An
 * upload streams the file with its Content-Length, so the node writes it to
 * disk from the first byte; a download streams to the caller. Neither holds
 * a file in memory, here or in the node.
 */
import http from "node:http";
import fs from "node:fs";
import { OWNER_HEADER, OWNER_PREFIX } from "../modules/http_server/local_only.ts";
import { joinBytes } from "../runtime/bytes.ts";
import { UsageError } from "./flags.ts";
import { noNode } from "./node_client.ts";

/** An answer of the app's JSON API: its status and body (`error` set on a refusal). */
export interface AppAnswer {
  status: number;
  body: Record<string, unknown> & { error?: string };
}

export class AppClient {
  readonly port: number;
  /** The process whose bound paths are asked, e.g. file-transfer:file-transfer:template.os. */
  readonly process: string;

  constructor(port: number, process: string) {
    this.port = port;
    this.process = process;
  }

  private path(apiPath: string): string {
    return `${OWNER_PREFIX}/${this.process}${apiPath}`;
  }

  /** A GET, or a POST of `body` as JSON; the answer parsed. */
  async json(apiPath: string, body?: unknown): Promise<AppAnswer> {
    const resp = await this.fetch(apiPath, body);
    return { status: resp.status, body: this.parse(resp.status, await resp.text()) };
  }

  /** A GET whose body is bytes: the stream when it is 2xx, else the refusal parsed. */
  async stream(apiPath: string): Promise<ReadableStream<Uint8Array> | AppAnswer> {
    const resp = await this.fetch(apiPath);
    if (resp.ok && resp.body) return resp.body;
    return { status: resp.status, body: this.parse(resp.status, await resp.text()) };
  }

  /** PUTs the file at `file` (`size` bytes) to `apiPath`, calling `sent` with the bytes sent so far. */
  upload(apiPath: string, file: string, size: number, sent: (bytes: number) => void): Promise<AppAnswer> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: "127.0.0.1",
        port: this.port,
        method: "PUT",
        path: this.path(apiPath),
        headers: {
          [OWNER_HEADER]: "1",
          "content-type": "application/octet-stream",
          "content-length": String(size),
          connection: "close",
        },
      }, (res) => {
        const parts: Uint8Array[] = [];
        res.on("data", (c: Uint8Array) => parts.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          try {
            resolve({ status, body: this.parse(status, new TextDecoder().decode(joinBytes(parts))) });
          } catch (e) {
            reject(e);
          }
        });
        res.on("error", reject);
      });
      req.on("error", (e: NodeJS.ErrnoException) => reject(e.code === "ECONNREFUSED" ? noNode(this.port) : e));
      let bytes = 0;
      const from = fs.createReadStream(file);
      from.on("data", (c) => sent(bytes += c.length));
      from.on("error", (e) => {
        req.destroy();
        reject(e);
      });
      from.pipe(req);
    });
  }

  private async fetch(apiPath: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`http://127.0.0.1:${this.port}${this.path(apiPath)}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { [OWNER_HEADER]: "1", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw noNode(this.port);
    }
  }

  private parse(status: number, text: string): AppAnswer["body"] {
    try {
      const v = JSON.parse(text);
      if (v && typeof v === "object" && !Array.isArray(v)) return v;
    } catch { /* said below */ }
    throw new UsageError(`port ${this.port} answered with something that is not a hyperdeno node (HTTP ${status})`);
  }
}
