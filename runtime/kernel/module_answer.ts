/**
 * The one way a runtime module answers a request, as the book's modules do:
 * parse the request (its action an externally tagged variant, see
 * api/variant.ts), act, and reply with the value or the module's Err variant.
 * A module refuses by throwing a ModuleError; anything else thrown becomes the
 * module's catch-all variant.
 */
import { fromUtf8, jsonBytes, type KernelMessage, type LazyLoadBlob } from "../types.ts";
import type { KernelHandle } from "./module.ts";

/** A module's Err variant (e.g. `{"NoCap": {...}}`) as a thrown value; it answers as `{"Err": variant}`. */
export class ModuleError<E = unknown> extends Error {
  constructor(readonly variant: E) {
    super(JSON.stringify(variant));
  }
}

/** The JSON body of request `km`, or `refuse(why)` thrown when it is not JSON. */
export function requestJson(km: KernelMessage, refuse: (why: Error) => ModuleError): unknown {
  try {
    return JSON.parse(fromUtf8((km.message as { Request: { body: Uint8Array } }).Request.body));
  } catch (e) {
    throw refuse(e as Error);
  }
}

export interface AnswerOptions {
  /** How the log names the module, e.g. "vfs" or "kv:distro:sys". */
  label: string;
  /** The Err variant for anything thrown that is not a ModuleError. */
  otherError(e: unknown): unknown;
  /** Logs a failure its own way; returns whether it did (else a failure nobody awaits is logged at verbosity 1). */
  noted?(e: unknown, variant: unknown): boolean;
}

/** Answers request `km` with what `act` gives (a JSON body and a blob), or with `{"Err": variant}` if it throws. */
export function answer(
  k: KernelHandle,
  km: KernelMessage,
  act: Promise<[unknown, LazyLoadBlob | null]>,
  o: AnswerOptions,
): void {
  const expects = "Request" in km.message && km.message.Request.expects_response !== null;
  act.then(
    ([body, blob]) => expects && k.respond(km, jsonBytes(body), blob),
    (e) => {
      const variant = e instanceof ModuleError ? e.variant : o.otherError(e);
      if (expects) k.respond(km, jsonBytes({ Err: variant }));
      if (!o.noted?.(e, variant) && !expects) k.print(1, `${o.label}: ${km.source}: ${JSON.stringify(variant)}`);
    },
  );
}
