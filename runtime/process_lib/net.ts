/**
 * Helpers for net:distro:sys (the book's NetAction): requests go out and
 * answers come back in the reference's MessagePack, and reach the caller as
 * the object shapes of runtime/api/net.ts.
 */
import { decode } from "@msgpack/msgpack";
import { NET } from "../api/processes.ts";
import { decodeNetResponse, encodeNetAction, type Identity, type NetAction, type NetResponse } from "../api/net.ts";
import type { Address } from "../types.ts";
import { Request } from "./builders.ts";
import { ourModule } from "./modules.ts";

export type { Identity, NetAction, NetResponse };

/** Sends a NetAction to our net module; resolves with its NetResponse and the blob that came with it. */
export async function netRequest(
  action: NetAction,
  blob?: Uint8Array,
): Promise<{ response: NetResponse; blob: Uint8Array | null }> {
  const r = Request.to(ourModule(NET)).body(encodeNetAction(action));
  if (blob) r.blobBytes(blob);
  const resp = await r.sendAndAwaitResponse(5);
  return { response: decodeNetResponse(decode(resp.body())), blob: resp.blob()?.bytes ?? null };
}

/** The peers we have links with now. */
export async function getPeers(): Promise<Identity[]> {
  const { response } = await netRequest("GetPeers");
  return typeof response === "object" && "Peers" in response ? response.Peers : [];
}

/** What net knows of `name`, or null. */
export async function getPeer(name: string): Promise<Identity | null> {
  const { response } = await netRequest({ GetPeer: name });
  return typeof response === "object" && "Peer" in response ? response.Peer : null;
}

/** A signature by our networking key over this process's address followed by `data`. */
export async function sign(data: Uint8Array): Promise<Uint8Array> {
  const { blob } = await netRequest("Sign", data);
  if (!blob) throw new Error("net gave no signature");
  return blob;
}

/** Whether `signature` is `from`'s node's signature over `from` followed by `data`. */
export async function verify(from: Address, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  const { response } = await netRequest({ Verify: { from, signature } }, data);
  return typeof response === "object" && "Verified" in response && response.Verified;
}
