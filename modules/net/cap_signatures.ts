/**
 * Capabilities cross nodes as `[[issuer, params], signature]`, the signature
 * made by the issuing node's networking key over the capability's
 * MessagePack. Going out, we sign those we issued and send others with the
 * signature they arrived with. Coming in, the reference drops only those
 * claiming to be ours whose signature fails; we also drop any other whose
 * issuer's key we know and whose signature fails it, or whose issuer we do
 * not know at all, since nothing vouches for it.
 */
import { sign, verify } from "../../runtime/keys.ts";
import type { NodeKeys } from "../../runtime/keys.ts";
import { type Capability, nodeOf } from "../../runtime/types.ts";
import { capabilitySigningBytes } from "./wire.ts";

/** Signatures kept at most, ours and others' (a capability's signature never changes). */
const KEEP = 4096;

const keyOf = (c: Capability) => `${c.issuer}\n${c.params}`;

export class CapabilitySignatures {
  private known = new Map<string, Uint8Array>();

  constructor(private our: string, private keys: NodeKeys, private keyOfNode: (name: string) => Uint8Array | null) {}

  private remember(k: string, sig: Uint8Array) {
    if (this.known.size >= KEEP) this.known.delete(this.known.keys().next().value!);
    this.known.set(k, sig);
  }

  /** The signature to send `cap` with (empty when we issued none and never received one). */
  signatureFor = (cap: Capability): Uint8Array => {
    const k = keyOf(cap);
    let sig = this.known.get(k);
    if (!sig && nodeOf(cap.issuer) === this.our) this.remember(k, sig = sign(this.keys, capabilitySigningBytes(cap)));
    return sig ?? new Uint8Array();
  };

  /** The capabilities whose signature holds, each remembered for sending on. */
  verified(caps: Capability[], signatures: Uint8Array[]): Capability[] {
    return caps.filter((cap, i) => {
      const sig = signatures[i];
      const issuer = nodeOf(cap.issuer);
      const key = issuer === this.our ? this.keys.publicKey : this.keyOfNode(issuer);
      if (!key || sig.length !== 64 || !verify(key, capabilitySigningBytes(cap), sig)) return false;
      if (issuer !== this.our) this.remember(keyOf(cap), sig);
      return true;
    });
  }
}
